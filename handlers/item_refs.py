"""Which existing task or meeting a message means: by number (「3」「No.3」), by date (「12/17」)
or by a fragment of its title (「報告書」); the caller acts on one match and asks on several."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import select

from handlers.context import Context
from handlers.dates import parse_when
from handlers.messages import Button, Reply
from handlers.questions import ask
from storage.due import agreements_of
from storage.limits import MAX_ID
from storage.models import ActionItem, Meeting

T = TypeVar("T")
NUMBER = re.compile(r"(?:No\.?|no\.?|#|＃)?\s*([0-9]+)(?:番)?")
MAX_CHOICES = 10


def is_number(token: str) -> bool:
    """「3」「No.3」「#3」「3番」: a reference to an item by its number."""
    return NUMBER.fullmatch(token.strip()) is not None


def as_date(ctx: Context, token: str) -> date | None:
    """A single day written alone (「12/17」「12月17日」), else None."""
    if not token or not any(ch.isdigit() for ch in token) or is_number(token):
        return None
    try:
        when = parse_when(token, today=ctx.today)
    except ValueError:
        return None
    if when is None or when.start != when.end or when.time is not None:
        return None
    return when.start


def _id(digits: str) -> int:
    """A typed number as an id; one no row can have (「完了 99999999999999999999」) as 0, which
    finds nothing instead of failing in the database."""
    number = int(digits[:12])
    return number if len(digits) <= 12 and number <= MAX_ID else 0


def tasks_for(ctx: Context, ref: str) -> list[ActionItem]:
    """The sender's tasks that `ref` names; open ones only, unless named by number."""
    base = select(ActionItem).where(ActionItem.agreement_id.in_(agreements_of(ctx.contact.id)))
    if m := NUMBER.fullmatch(ref.strip()):
        return list(ctx.session.scalars(base.where(ActionItem.id == _id(m.group(1)))))
    open_ = base.where(ActionItem.done_at.is_(None)).order_by(ActionItem.due_on, ActionItem.id)
    if not ref.strip():
        return list(ctx.session.scalars(open_))
    if (day := as_date(ctx, ref)) is not None:
        return list(ctx.session.scalars(open_.where(ActionItem.due_on == day)))
    return _by_title(list(ctx.session.scalars(open_)), ref, lambda t: t.title)


def meetings_for(ctx: Context, ref: str) -> list[Meeting]:
    """The sender's meetings that `ref` names; upcoming, not cancelled ones unless by number."""
    base = select(Meeting).where(Meeting.agreement_id.in_(agreements_of(ctx.contact.id)))
    if m := NUMBER.fullmatch(ref.strip()):
        return list(ctx.session.scalars(base.where(Meeting.id == _id(m.group(1)))))
    upcoming = base.where(Meeting.cancelled.is_(False), Meeting.starts_at >= ctx.now).order_by(
        Meeting.starts_at
    )
    if not ref.strip():
        return list(ctx.session.scalars(upcoming))
    if (day := as_date(ctx, ref)) is not None:
        start = datetime.combine(day, time.min, ctx.tz)
        return list(
            ctx.session.scalars(
                upcoming.where(Meeting.starts_at < start + timedelta(days=1)).where(
                    Meeting.starts_at >= start
                )
            )
        )
    return _by_title(list(ctx.session.scalars(upcoming)), ref, lambda m: m.title)


def _by_title(rows: list[T], ref: str, title: Callable[[T], str]) -> list[T]:
    """Exact title first, then titles that contain every word of `ref` (spaces ignored)."""
    words = [w for w in ref.split() if w]
    if not words:
        return []
    exact = [r for r in rows if title(r).replace(" ", "") == "".join(words)]
    if exact:
        return exact
    flat = [(r, title(r).replace(" ", "").replace("　", "")) for r in rows]
    return [r for r, t in flat if all(w in t for w in words)]


def ask_which(
    ctx: Context,
    what: str,
    ref: str,
    candidates: Sequence[tuple[int, str]],
    command_for: Callable[[int], str],
    *,
    command: str,
) -> Reply:
    """「どの会議ですか？」 with one button per candidate: (number, label)."""
    options = [
        Button(f"No.{n} {label}"[:20], command_for(n)) for n, label in candidates[:MAX_CHOICES]
    ]
    return ask(
        ctx,
        f"「{ref}」に当たる{what}が{len(candidates)}件あります。どれですか？",
        options,
        command=command,
    )


# 「に変更」「を変更して」「変更で」 at the end of an edit: not part of any value.
CHANGE_TAIL = re.compile(
    r"\s*(?:に|へ|を|は)?\s*(?:変更|修正|変えて|直して|延ば|伸ば|延長|前倒し)"
    r"(?:して|する|します|したい|してください|お願いします|で|に)?\s*$"
)
_PARTICLE_END = re.compile(r"(?:変更|修正)?(?:を|は|が|の)?$")
# A command word standing alone (「変更」「期限変更」「中止」): never part of a new item's title.
COMMAND_WORD = re.compile(
    r"^(?:(?:期限|締切|担当者?|件名|タイトル|場所|日時|時間)?(?:を|の)?(?:変更|修正)"
    r"|(?:に|へ)(?:変更|延期)|変更|延期|中止|完了|取消|取り消し|削除|キャンセル)$",
    re.IGNORECASE,
)


def strip_change(text: str) -> str:
    """The edit without its trailing 「に変更」 and stray particles."""
    return CHANGE_TAIL.sub("", text).strip()


def split_field(text: str, fields: dict[str, str]) -> tuple[str | None, str, str]:
    """(field, reference, new value) of an edit such as 「2 期限 12/19」 or 「報告書の期限を2/19」:
    the first word that names a field splits the text; (None, text, "") without one."""
    text = strip_change(text)
    for word in sorted(fields, key=len, reverse=True):  # 「期限:12/19」 → 「期限 12/19」
        text = re.sub(rf"(?<!\S){re.escape(word)}\s*[:：]\s*", f"{word} ", text, flags=re.I)
    tokens = text.split()
    for i, token in enumerate(tokens):
        core = _PARTICLE_END.sub("", token).lower()
        if core in fields:
            return fields[core], " ".join(tokens[:i]), strip_change(" ".join(tokens[i + 1 :]))
    names = "|".join(
        sorted((re.escape(w) for w in fields if not w.isascii()), key=len, reverse=True)
    )
    if names and (m := re.search(rf"の({names})(?:を|は|[:：])?", text)):
        return fields[m.group(1).lower()], text[: m.start()].strip(), strip_change(text[m.end() :])
    if names and (m := re.search(rf"(?:^|\s)({names})(?:を|は)", text)):  # 「2 期限を2/19」
        return fields[m.group(1).lower()], text[: m.start()].strip(), strip_change(text[m.end() :])
    return None, text, ""


def has_command_word(title: str) -> bool:
    """Does a would-be title hold a command word or a bare item number (「2 期限変更」)?"""
    return any(COMMAND_WORD.match(t) or is_number(t) for t in title.split())
