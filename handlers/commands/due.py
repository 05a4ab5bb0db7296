"""予定 / 今週 / 期限 / due: what is due, from the same query the scheduler uses."""

from __future__ import annotations

from datetime import timedelta

from handlers.context import Context
from handlers.messages import Reply
from handlers.text import fmt_date, fmt_datetime, short_title
from storage.due import DueItem, due_for_contact

WINDOW_DAYS = 30
KIND_LABELS = {
    "meeting": "会議",
    "action_item": "タスク",
    "kpi_entry": "KPI入力",
    "renewal": "更新",
    "handover": "担当交代",
}


def due(ctx: Context, args: str, *, this_week: bool = False) -> Reply:
    start = ctx.today
    end = (
        start + timedelta(days=6 - start.weekday())
        if this_week
        else start + timedelta(days=WINDOW_DAYS)
    )
    items = due_for_contact(ctx.session, contact_id=ctx.contact.id, start=start, end=end, tz=ctx.tz)
    span = "今週" if this_week else f"今後{WINDOW_DAYS}日"
    if not items:
        return Reply(f"{span}の予定・期限はありません。", private=True)
    overdue = sum(i.overdue for i in items)
    head = (
        f"{span}の予定・期限（{len(items)}件"
        + (f"、うち期限超過{overdue}件" if overdue else "")
        + "）"
    )
    return Reply(head, items=tuple(describe(i, ctx) for i in items), private=True)


def this_week(ctx: Context, args: str) -> Reply:
    return due(ctx, args, this_week=True)


def describe(item: DueItem, ctx: Context) -> str:
    when = fmt_datetime(item.at, ctx.tz) if item.at else fmt_date(item.on)
    mark = "⚠期限超過 " if item.overdue else ""
    return f"{mark}{when} {KIND_LABELS[item.kind]}：{item.title}［{short_title(item.agreement_title)}］"
