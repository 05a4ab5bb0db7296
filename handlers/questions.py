"""Asking back: the open question lives in the database (any worker may get the answer) and is
answered by tapping a button or by typing its number or label. It expires after 10 minutes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, select

from handlers.context import Context
from handlers.messages import Button, Reply
from handlers.understanding.intent import understand
from storage.db import write_blind
from storage.models import PendingQuestion

TTL = timedelta(minutes=10)
MAX_OPTIONS = 13  # LINE's quick-reply limit


def ask(ctx: Context, text: str, options: list[Button], *, command: str) -> Reply:
    """Store the question (replacing an older one in this chat) and show numbered choices."""
    options = options[:MAX_OPTIONS]
    _forget(ctx)
    _cache(ctx)[_key(ctx)] = question = PendingQuestion(
        contact_id=ctx.contact.id,
        platform=ctx.incoming.platform,
        chat_key=ctx.incoming.chat_id or "",
        command=command,
        options={b.label: b.text for b in options},
        created_at=ctx.now,
        expires_at=ctx.now + TTL,
    )
    ctx.session.add(question)
    numbered = tuple(f"{i}. {b.label}" for i, b in enumerate(options, 1))
    return Reply(text, items=numbered, buttons=tuple(options))


def answer(ctx: Context, text: str, *, exact: bool = False) -> str | None:
    """The text the typed answer stands for, if it answers the open question; the question is
    closed either way once a reply to it is recognised. `exact`: only a label typed as shown
    (「KPIにも入れる」 answers the question, although it starts with a command word)."""
    question = _open(ctx)
    if question is None:
        return None
    if question.expires_at <= ctx.now:
        _forget(ctx)
        return None
    if exact:
        labels = {label.lower(): value for label, value in question.options.items()}
        choice = labels.get(text.strip().lower())
    else:
        choice = _pick(question.options, text.strip())
    if choice is not None:
        _forget(ctx)
    return choice


def close(ctx: Context) -> None:
    _forget(ctx)


def ask_again(ctx: Context) -> Reply | None:
    """The open question's choices once more, for a reply that picks none of them (「はい」 to
    「どの会議ですか？」); None when no question is open."""
    if not asking(ctx):
        return None
    question = _open(ctx)
    assert question is not None
    options = [Button(label, text) for label, text in question.options.items()]
    numbered = tuple(f"{i}. {b.label}" for i, b in enumerate(options, 1))
    return Reply("どれにしますか？番号で選んでください。", items=numbered, buttons=tuple(options))


def revise(ctx: Context, change: Callable[[str], str], text: Callable[[str], str]) -> Reply | None:
    """The open question asked again with `change` applied to each choice's command (「あっ、
    42名です」 to a proposal of 40名), under `text(the first changed command)`; None when no
    question is open or nothing changes."""
    question = _open(ctx)
    if question is None or question.expires_at <= ctx.now:
        return None
    options = [Button(label, change(command)) for label, command in question.options.items()]
    changed = [b.text for b in options if b.text not in question.options.values()]
    if not changed:
        return None
    return ask(ctx, text(changed[0]), options, command=question.command)


def offers(ctx: Context, command: str) -> bool:
    """Whether the open question's choices include running `command` (「取消」 typed under
    「直前の入力を取り消しますか？」 answers it)."""
    question = _open(ctx)
    return question is not None and command in question.options.values()


def asking(ctx: Context) -> bool:
    """Whether this chat has a question open (asked, not answered, not expired)."""
    question = _open(ctx)
    return question is not None and question.expires_at > ctx.now


def _pick(options: dict[str, str], text: str) -> str | None:
    """Number, then exact label, then a label it starts, then one it is part of, then the
    longest label inside the answer (「広島市で」 is 広島市, not 東広島市); はい/いいえ; and a
    cancel phrase anywhere (「やっぱいいや」「キャンセルで」) closes the question."""
    labels = list(options)
    said = text.strip()
    if _NO.match(said):  # 「いや、まだです」「違います」
        return _labelled(options, ("いいえ", "no", "キャンセル")) or "キャンセル"
    text = _POLITE_TAIL.sub("", said) or said
    number = text.removeprefix("No.").removeprefix("no.").rstrip("番")
    if number.isdigit() and 1 <= int(number) <= len(labels):
        return options[labels[int(number) - 1]]
    if not text:
        return None
    lowered = text.lower()
    exact = [label for label in labels if label.lower() == lowered]
    if exact:
        return options[exact[0]]
    for fits in (
        lambda label: label.lower().startswith(lowered),
        lambda label: lowered in label.lower(),
    ):
        found = [label for label in labels if fits(label)]
        if len(found) == 1:
            return options[found[0]]
        if found:
            return None  # several fit: ask again rather than guess
    inside = sorted((label for label in labels if label.lower() in lowered), key=len, reverse=True)
    if inside and all(other.lower() in inside[0].lower() for other in inside[1:]):
        return options[inside[0]]
    intent = understand(text)
    if intent.kind == "yes":
        return _labelled(options, ("はい", "ok", "yes"))
    if intent.kind in ("no", "cancel"):
        return _labelled(options, ("いいえ", "no", "キャンセル")) or "キャンセル"
    return None


_NO = re.compile(
    r"^(?:いいえ|いや(?:[、,。 ]|$|です|いや)|no\b|ちが|違|まだ(?:です|いい|だめ)|だめ)",
    re.IGNORECASE,
)
_POLITE_TAIL = re.compile(
    r"(?:の方)?(?:で|に|を|が)?(?:お願い(?:します|いたします)?|おねがいします|です|にします|で(?:す)?)?[。.!！\s]*$"
)


def _labelled(options: dict[str, str], starts: tuple[str, ...]) -> str | None:
    found = [text for label, text in options.items() if label.lower().startswith(starts)]
    return found[0] if found else None


def _mine(ctx: Context) -> tuple[object, ...]:
    return (
        PendingQuestion.contact_id == ctx.contact.id,
        PendingQuestion.platform == ctx.incoming.platform,
        PendingQuestion.chat_key == (ctx.incoming.chat_id or ""),
    )


def known(ctx: Context, question: PendingQuestion | None) -> None:
    """This chat's open question as the caller already read it (with the sender: one query)."""
    _cache(ctx)[_key(ctx)] = question


def _open(ctx: Context) -> PendingQuestion | None:
    """This chat's open question, read once per transaction: most messages find none, and
    closing what is not there must not write (see storage.db.reads_first)."""
    cache = _cache(ctx)
    key = _key(ctx)
    if key not in cache:
        cache[key] = ctx.session.scalar(select(PendingQuestion).where(*_mine(ctx)))
    return cache[key]


def _forget(ctx: Context) -> None:
    question = _open(ctx)
    if question is not None:
        # By its id: a question asked since (by a message another worker answered) stays open.
        write_blind(ctx.session, delete(PendingQuestion).where(PendingQuestion.id == question.id))
        _cache(ctx)[_key(ctx)] = None


def _cache(ctx: Context) -> dict[tuple[object, ...], PendingQuestion | None]:
    cache: dict[tuple[object, ...], PendingQuestion | None] = ctx.session.info.setdefault(
        "renkei.open_questions", {}
    )
    return cache


def _key(ctx: Context) -> tuple[object, ...]:
    # The transaction is part of the key: a session may outlive one (tests reuse theirs).
    transaction = ctx.session.get_transaction()
    return (id(transaction), ctx.contact.id, ctx.incoming.platform, ctx.incoming.chat_id or "")
