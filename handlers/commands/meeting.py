"""会議 / meeting: 「会議 12/10 14:00 実務者会議 市役所3F」, 「会議」(list), 「会議 変更 3 12/12 15:00」,
「会議 中止 3」."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from handlers.agreements import AGREEMENT_TOKEN, NOT_YOURS, named_agreement, pick_agreement
from handlers.changes import record_create, record_update
from handlers.context import Context
from handlers.messages import Button, Reply
from handlers.questions import ask
from handlers.text import fmt_datetime, short_title
from handlers.when import find_date
from storage.due import agreements_of
from storage.models import Agreement, Meeting

EXAMPLE = "例：「会議 12/10 14:00 実務者会議 市役所3F」"
LIST_WORDS = {"一覧", "予定", "list", "ls"}
MOVE_WORDS = {"変更", "延期", "移動", "move", "reschedule"}
CANCEL_WORDS = {"中止", "取りやめ", "キャンセル", "cancel"}
TIMES = ("10:00", "13:30", "14:00", "15:00")


def meeting(ctx: Context, args: str) -> Reply:
    head, _, rest = args.partition(" ")
    if not AGREEMENT_TOKEN.sub("", args).strip():  # 「タスク」 or 「タスク 協定:xxx」: the list
        return _list(ctx, args)
    if head.lower() in LIST_WORDS:
        return _list(ctx, rest)
    if head.lower() in MOVE_WORDS:
        return _move(ctx, rest)
    if head.lower() in CANCEL_WORDS:
        return _cancel(ctx, rest)
    return _schedule(ctx, args)


def _schedule(ctx: Context, args: str) -> Reply:
    picked = pick_agreement(ctx, args, command="会議", question="どの協定の会議ですか？")
    if isinstance(picked, Reply):
        return picked
    agreement, args = picked
    found = find_date(ctx, args, retry=f"会議 協定:{agreement.key}", command="meeting")
    if isinstance(found, Reply):
        return found
    if found is None:
        return Reply(f"会議の日付と時刻を入れてください。{EXAMPLE}")
    when, rest = found
    if when.time is None:
        options = [
            Button(
                t, " ".join(f"会議 {when.start:%Y/%m/%d} {t} {rest} 協定:{agreement.key}".split())
            )
            for t in TIMES
        ]
        return ask(
            ctx,
            "何時からですか？ 時刻を選ぶか「14:00」のように送ってください。",
            options,
            command="meeting",
        )
    starts_at = datetime.combine(when.start, when.time, ctx.tz)
    if starts_at < ctx.now:
        return Reply(
            f"{fmt_datetime(starts_at, ctx.tz)}は過ぎています。これからの日時を入れてください。"
        )
    title, _, place = rest.partition(" ")
    if not title:
        return Reply(f"会議の名前を入れてください。{EXAMPLE}")
    kind = "steering" if "推進" in title else "working" if "実務" in title else "other"
    row = Meeting(
        agreement_id=agreement.id,
        kind=kind,
        title=title,
        starts_at=starts_at,
        place=place or None,
        cancelled=False,
        import_key=None,
    )
    ctx.session.add(row)
    record_create(ctx, row, f"会議 {title}")
    where = f"\n場所：{place}" if place else ""
    return Reply(
        f"会議を登録しました（No.{row.id}）\n{fmt_datetime(starts_at, ctx.tz)} {title}{where}\n"
        f"［{short_title(agreement.title)}］\n両方の担当者にリマインドします。"
    )


def _list(ctx: Context, args: str) -> Reply:
    agreements, _ = named_agreement(ctx, args)
    if agreements is None:
        return Reply(NOT_YOURS)
    rows = ctx.session.execute(
        select(Meeting, Agreement.title)
        .join(Agreement, Agreement.id == Meeting.agreement_id)
        .where(Meeting.agreement_id.in_([a.id for a in agreements]), Meeting.cancelled.is_(False))
        .where(Meeting.starts_at >= ctx.now)
        .order_by(Meeting.starts_at)
        .limit(20)
    ).all()
    if not rows:
        return Reply(f"予定されている会議はありません。{EXAMPLE}")
    items = tuple(
        f"No.{m.id} {fmt_datetime(m.starts_at, ctx.tz)} {m.title}{f'（{m.place}）' if m.place else ''}"
        f"［{short_title(title)}］"
        for m, title in rows
    )
    return Reply(
        "これからの会議（変更は「会議 変更 No. 日時」、中止は「会議 中止 No.」）", items=items
    )


def _mine(ctx: Context, text: str) -> tuple[Meeting | None, str]:
    number, _, rest = text.strip().removeprefix("No.").removeprefix("no.").partition(" ")
    if not number.isdigit():
        return None, rest
    row = ctx.session.scalar(
        select(Meeting).where(
            Meeting.id == int(number), Meeting.agreement_id.in_(agreements_of(ctx.contact.id))
        )
    )
    return row, rest


def _move(ctx: Context, args: str) -> Reply:
    row, rest = _mine(ctx, args)
    if row is None or row.cancelled:
        return Reply("その番号の会議が見つかりません。「会議」で一覧と番号を確かめてください。")
    found = find_date(ctx, rest, retry=f"会議 変更 {row.id}", command="meeting")
    if isinstance(found, Reply):
        return found
    if found is None:
        return Reply("新しい日時を入れてください。例：「会議 変更 3 12/12 15:00」")
    when, _ = found
    old = row.starts_at.astimezone(ctx.tz)
    new = datetime.combine(when.start, when.time or old.time(), ctx.tz)
    if new < ctx.now:
        return Reply(f"{fmt_datetime(new, ctx.tz)}は過ぎています。これからの日時を入れてください。")
    record_update(ctx, row, {"starts_at": new}, f"会議 {row.title} の日時変更")
    return Reply(
        f"会議の日時を変更しました：{row.title}\n{fmt_datetime(old, ctx.tz)} → {fmt_datetime(new, ctx.tz)}"
    )


def _cancel(ctx: Context, args: str) -> Reply:
    row, _ = _mine(ctx, args)
    if row is None or row.cancelled:
        return Reply("その番号の会議が見つかりません。「会議」で一覧と番号を確かめてください。")
    record_update(ctx, row, {"cancelled": True}, f"会議 {row.title} の中止")
    return Reply(
        f"会議を中止にしました：{fmt_datetime(row.starts_at, ctx.tz)} {row.title}\nリマインドも止まります。"
    )
