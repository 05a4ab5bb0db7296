"""The one table of commands: Japanese names first, English aliases after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.commands.due import due, this_week
from handlers.commands.history import history
from handlers.commands.log import log
from handlers.context import Context
from handlers.messages import Reply


@dataclass(frozen=True)
class Command:
    name: str  # the English name, also used in logs
    words: tuple[str, ...]  # what a liaison may type; the first is the one we show
    summary: str
    example: str
    handle: Callable[[Context, str], Reply] | None  # None: handled before the contact is known

    @property
    def english(self) -> str:
        return next(w for w in self.words if w.isascii())


def help_(ctx: Context, args: str) -> Reply:
    return help_reply(args)


COMMANDS: tuple[Command, ...] = (
    Command(
        "log", ("活動", "log", "activity"), "活動を記録する", "活動 11/20 防災訓練 参加者45名", log
    ),
    Command(
        "due",
        ("予定", "期限", "due", "what's due", "whats due", "todo"),
        "今後30日の予定と期限",
        "予定",
        due,
    ),
    Command("week", ("今週", "this week"), "今週の予定と期限", "今週", this_week),
    Command("history", ("履歴", "history"), "最近の活動10件", "履歴", history),
    Command(
        "link",
        ("登録", "link", "register"),
        "LINE/Slackのアカウントを登録する",
        "登録 ABC123",
        None,
    ),
    Command("help", ("ヘルプ", "help", "使い方", "?"), "使い方を表示する", "ヘルプ", help_),
)

# Longest words first, so "what's due" wins over a shorter word that starts it.
_BY_WORD = sorted(((w.lower(), c) for c in COMMANDS for w in c.words), key=lambda p: -len(p[0]))


def match(text: str) -> tuple[Command, str] | None:
    """(command, the rest of the text) when the normalised text starts with a command word."""
    lowered = text.lower()
    for word, command in _BY_WORD:
        if (
            lowered == word
            or lowered.startswith(word + " ")
            or (not word.isascii() and lowered.startswith(word))
        ):
            return command, text[len(word) :].strip()
    return None


def help_reply(args: str = "") -> Reply:
    wanted = match(args) if args else None
    if wanted is not None:
        c = wanted[0]
        aliases = "、".join(f"「{w}」" for w in c.words)
        return Reply(f"{c.words[0]}：{c.summary}\n例：「{c.example}」\n使える言葉：{aliases}")
    items = tuple(f"{c.words[0]}（{c.english}）：{c.summary}　例「{c.example}」" for c in COMMANDS)
    return Reply("Renkei の使い方です。次のように送ってください。", items=items)
