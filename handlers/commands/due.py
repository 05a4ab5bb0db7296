"""予定 / 今週 / 期限 / due: what is due, from the same query the scheduler uses; and the focused
answers to questions about it (次の会議いつ？ 期限切れてるのある？ 来週なんかある？)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers.agreements import mentioned
from handlers.context import Context
from handlers.messages import Reply
from handlers.text import fmt_date, fmt_datetime, short_title
from storage.due import (
    DueItem,
    contact_agreement_ids,
    contact_agreements,
    due_for_contact,
)
from storage.models import Agreement, Meeting

WINDOW_DAYS = 30
MAX_LINES = 10  # longer lists end with 「ほか N 件」: a phone screen, not a report
ALL_WORDS = {"すべて", "全て", "全部", "ぜんぶ", "all"}
NO_AGREEMENT = "担当している協定がまだありません。事務局に登録を依頼してください。"
KIND_LABELS = {
    "meeting": "会議",
    "action_item": "タスク",
    "kpi_entry": "KPI入力",
    "renewal": "更新",
    "handover": "担当交代",
}


def due(ctx: Context, args: str, *, this_week: bool = False) -> Reply:
    show_all = bool(set(args.lower().split()) & ALL_WORDS)
    start = ctx.today
    earlier = 0
    agreements, named = _named(ctx, args)  # for the list and the lines
    if this_week:  # this week only: Monday to Sunday; older overdue items are only counted
        monday = start - timedelta(days=start.weekday())
        found = _items(ctx, start, monday + timedelta(days=6), agreements)
        items = [i for i in found if i.on >= monday]
        earlier = len(found) - len(items)
        span = f"{named}今週"
    else:
        items = _items(ctx, start, start + timedelta(days=WINDOW_DAYS), agreements)
        span = f"{named}今後{WINDOW_DAYS}日"
    note = (
        f"ほかに先週までの期限超過が{earlier}件あります（「期限切れ」で表示）。" if earlier else ""
    )
    if not items and not agreements:  # (a successor-to-be sees the handover)
        return Reply(NO_AGREEMENT, private=True)
    if not items:
        return Reply(f"{span}の予定・期限はありません。{note}", private=True)
    overdue = sum(i.overdue for i in items)
    head = (
        f"{span}の予定・期限（{len(items)}件"
        + (f"、うち期限超過{overdue}件" if overdue else "")
        + "）"
    )
    lines = _lines(ctx, items, show_all=show_all, agreements=len(agreements))
    return Reply(head, items=(*lines, note) if note else lines, private=True)


def this_week(ctx: Context, args: str) -> Reply:
    return due(ctx, args, this_week=True)


def next_week(ctx: Context, text: str = "") -> Reply:
    """来週: Monday to Sunday of next week, and nothing else."""
    agreements, named = _named(ctx, text)
    if not agreements:
        return Reply(NO_AGREEMENT, private=True)
    monday = ctx.today + timedelta(days=7 - ctx.today.weekday())
    sunday = monday + timedelta(days=6)
    items = [i for i in _items(ctx, monday, sunday, agreements) if monday <= i.on <= sunday]
    span = f"{named}来週（{fmt_date(monday)}〜{fmt_date(sunday)}）"
    if not items:
        return Reply(f"{span}の予定・期限はありません。", private=True)
    lines = _lines(ctx, items, agreements=len(agreements))
    return Reply(f"{span}の予定・期限（{len(items)}件）", items=lines, private=True)


def overdue(ctx: Context, text: str = "") -> Reply:
    """期限切れ: the overdue items only, or plainly that there are none."""
    agreements, named = _named(ctx, text)
    if not agreements:
        return Reply(NO_AGREEMENT, private=True)
    items = [i for i in _items(ctx, ctx.today, ctx.today, agreements) if i.overdue]
    if not items:
        return Reply(f"{named}期限切れはありません。", private=True)
    lines = _lines(ctx, items, agreements=len(agreements))
    return Reply(f"{named}期限切れが{len(items)}件あります。", items=lines, private=True)


def next_meeting(ctx: Context, text: str = "") -> Reply:
    """次の会議: the next one only (of the agreement the question names, if it names one)."""
    agreements, _ = _named(ctx, text)
    if not agreements:
        return Reply(NO_AGREEMENT, private=True)
    m = ctx.session.scalar(
        select(Meeting)
        .where(
            Meeting.agreement_id.in_(list(agreements)),
            Meeting.cancelled.is_(False),
            Meeting.starts_at >= ctx.now,
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    )
    if m is None:
        return Reply("予定されている会議はありません。", private=True)
    place = f"（{m.place}）" if m.place else ""
    return Reply(
        f"次の会議は {fmt_datetime(m.starts_at, ctx.tz, today=ctx.today)}「{m.title}」{place}です。",
        private=True,
    )


def describe(item: DueItem, ctx: Context, *, agreement: bool = True) -> str:
    # Outside this fiscal year the year is shown: last year's 3/10 is not this year's.
    when = (
        fmt_datetime(item.at, ctx.tz, today=ctx.today)
        if item.at
        else fmt_date(item.on, today=ctx.today)
    )
    mark = "⚠期限超過 " if item.overdue else ""
    which = f"［{short_title(item.agreement_title)}］" if agreement else ""
    return f"{mark}{when} {KIND_LABELS[item.kind]}：{item.title}{which}"


def _named(ctx: Context, text: str) -> tuple[dict[int, Agreement], str]:
    """The contact's agreements, or those a word of `text` names (「さくら町の予定」), with
    「［さくら町地域活性化プラットフォーム］」 to head the answer when it names some."""
    agreements = contact_agreements(ctx.session, ctx.contact.id)
    named = mentioned(ctx, text, list(agreements.values()))
    if not named:
        return agreements, ""
    return {a.id: a for a in named}, "［" + "・".join(short_title(a.title) for a in named) + "］"


def _items(
    ctx: Context, start: date, end: date, agreements: dict[int, Agreement] | None = None
) -> list[DueItem]:
    return due_for_contact(
        ctx.session,
        contact_id=ctx.contact.id,
        start=start,
        end=end,
        tz=ctx.tz,
        agreements=agreements,
    )


def _agreement_ids(ctx: Context) -> list[int]:
    return contact_agreement_ids(ctx.session, ctx.contact.id)


def _lines(
    ctx: Context, items: list[DueItem], *, show_all: bool = False, agreements: int | None = None
) -> tuple[str, ...]:
    """One line per item; the agreement named only when there are several (`agreements`: how
    many the person has, when the caller knows)."""
    several = len({i.agreement_key for i in items}) > 1 or (
        (agreements if agreements is not None else len(_agreement_ids(ctx))) > 1
    )
    lines = [describe(i, ctx, agreement=several) for i in items]
    if show_all or len(lines) <= MAX_LINES:
        return tuple(lines)
    return (*lines[:MAX_LINES], f"ほか {len(lines) - MAX_LINES} 件（「予定 すべて」）")
