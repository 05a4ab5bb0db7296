"""The one table of commands: Japanese names first, English aliases after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.commands.contacts import contacts
from handlers.commands.dashboard import calendar, dashboard
from handlers.commands.due import due, this_week
from handlers.commands.group import GROUP_COMMAND, tie_group
from handlers.commands.handover import handover, reassign
from handlers.commands.history import history
from handlers.commands.kpi import kpi
from handlers.commands.log import log
from handlers.commands.meeting import meeting
from handlers.commands.reminders import acknowledge, snooze
from handlers.commands.status import status
from handlers.commands.task import done, task
from handlers.commands.undo import cancel, undo
from handlers.context import Context
from handlers.messages import Reply
from handlers.text import normalize


@dataclass(frozen=True)
class Command:
    name: str  # the English name, also used in logs
    words: tuple[str, ...]  # what a liaison may type; the first is the one we show
    summary: str
    example: str
    handle: Callable[[Context, str], Reply] | None  # None: handled before the contact is known
    # Always writes (or asks back, which stores the question): such a message skips the
    # attempt to answer it without the write lock (bot.inbound). A wrong False costs one
    # wasted attempt, never a lost write.
    writes: bool = False

    @property
    def english(self) -> str:
        return next(w for w in self.words if w.isascii())


def help_(ctx: Context, args: str) -> Reply:
    return help_reply(args)


COMMANDS: tuple[Command, ...] = (
    Command(
        "log",
        ("活動", "記録", "log", "activity"),
        "活動を記録する（日付・内容・人数・メモ）",
        "活動 11/20 防災訓練 参加者45名 メモ:雨天のため体育館",
        log,
        writes=True,
    ),
    Command(
        "kpi",
        ("KPI", "実績", "kpi"),
        "KPIの実績を入力する（名前・番号で指定）。「KPI」だけで一覧",
        "KPI 参加者数 120 第2四半期",
        kpi,
        writes=True,
    ),
    Command(
        "meeting",
        ("会議", "打合せ", "meeting"),
        "会議の登録・一覧・変更・中止",
        "会議 12/10 14:00 実務者会議 市役所3F",
        meeting,
    ),
    Command(
        "task",
        ("タスク", "課題", "task", "todo"),
        "タスクの登録・一覧（期限と担当）",
        "タスク 12/5 協定書案送付 @佐藤",
        task,
    ),
    Command("done", ("完了", "済み", "done"), "タスクを完了にする", "完了 3", done, writes=True),
    Command(
        "due",
        ("予定", "期限", "due", "what's due", "whats due", "upcoming"),
        "今後30日の予定と期限（期限超過が先頭）",
        "予定",
        due,
    ),
    Command("week", ("今週", "this week", "week"), "今週の予定と期限", "今週", this_week),
    Command(
        "status",
        ("状況", "進捗", "status"),
        "協定ごとのKPI・活動・会議・タスク・更新期限",
        "状況",
        status,
    ),
    Command("history", ("履歴", "history"), "最近の活動10件", "履歴", history),
    Command(
        "handover",
        ("引継ぎ", "引き継ぎ", "引継", "handover"),
        "後任者向けの引継ぎ資料",
        "引継ぎ",
        handover,
    ),
    Command(
        "reassign",
        ("担当変更", "reassign"),
        "正担当を後任者に交代する（登録コードを発行）",
        "担当変更 山田 太郎 yamada@example.jp",
        reassign,
    ),
    Command(
        "group",
        (GROUP_COMMAND, "グループ登録", "link group"),
        "このグループ（Slackはチャンネル）に協定の週次ダイジェストを届ける",
        GROUP_COMMAND,
        tie_group,
    ),
    Command(
        "contacts",
        ("連絡先", "contacts"),
        "協定の担当者と連絡先（本人だけに）。「連絡先 さくら町」で絞り込み",
        "連絡先",
        contacts,
    ),
    Command(
        "undo",
        ("取消", "取り消し", "取消し", "undo"),
        "10分以内の自分の入力を取り消す",
        "取消",
        undo,
        writes=True,
    ),
    Command(
        "cancel",
        ("キャンセル", "やめる", "cancel"),
        "ボットからの質問をやめる",
        "キャンセル",
        cancel,
    ),
    Command(
        "snooze",
        ("スヌーズ", "snooze"),
        "リマインドを数日後まで止める（リマインドのボタンから）",
        "スヌーズ meeting:5 7日",
        snooze,
        writes=True,
    ),
    Command(
        "acknowledge",
        ("対応済み", "対応済", "ack"),
        "リマインドを対応済みにする（リマインドのボタンから）",
        "対応済み meeting:5",
        acknowledge,
        writes=True,
    ),
    Command(
        "dashboard",
        ("ダッシュボード", "dashboard"),
        "ウェブのダッシュボードを開くリンク（本人だけに・15分間有効）",
        "ダッシュボード",
        dashboard,
    ),
    Command(
        "calendar",
        ("カレンダー", "calendar"),
        "会議と期限をカレンダーアプリに取り込むURL（本人だけに）",
        "カレンダー",
        calendar,
    ),
    Command(
        "link",
        ("登録", "link", "register"),
        "LINE/Slackのアカウントを登録する",
        "登録 ABC123",
        None,
        writes=True,
    ),
    Command(
        "help",
        ("ヘルプ", "使い方", "help", "?"),
        "使い方を表示する。「ヘルプ KPI」で各コマンドの説明",
        "ヘルプ",
        help_,
    ),
)

# Longest words first, so "what's due" wins over a shorter word that starts it.
_BY_WORD = sorted(((w.lower(), c) for c in COMMANDS for w in c.words), key=lambda p: -len(p[0]))


def surely_writes(text: str) -> bool:
    """Whether `text` is a command that always writes (see `Command.writes`)."""
    found = match(normalize(text))
    return found is not None and found[0].writes


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
        return Reply(
            f"{c.words[0]}：{c.summary}\n例：「{c.example}」\n使える言葉：{aliases}", private=True
        )
    items = tuple(f"{c.words[0]}（{c.english}）：{c.summary}　例「{c.example}」" for c in COMMANDS)
    return Reply("Renkei の使い方です。次のように送ってください。", items=items, private=True)
