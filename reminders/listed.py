"""What a weekly digest really listed, so the attention budget leaves out only those leads.

The dates say a lead's deadline is in the week's digest's 「今後2週間」 (reminders.budget
.listing_digest); the digest itself shows, per agreement, the first DIGEST_LINES items of that
list (bot.digest, from storage.due.due_for_agreements), and only for an agreement in force that
day. A lead is left out only when its item is among those lines and was not written (created,
moved, restored) on or after the digest day: anything else was not in the digest as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reminders.budget import DIGEST_LINES, DIGEST_LISTS
from reminders.items import Occurrence, running_on
from reminders.keys import ItemKey
from reminders.world import World
from storage.due import due_for_agreements
from storage.models import ChangeLog


def drop_listed(
    session: Session,
    world: World,
    occurrences: list[Occurrence],
    *,
    start: datetime,
    end: datetime,
) -> list[Occurrence]:
    """`occurrences` without the leads in [start, end) that their week's digest listed."""
    candidates = [o for o in occurrences if o.listed_on is not None and start <= o.at < end]
    if not candidates:
        return occurrences
    by_day: dict[date, set[int]] = {}
    for o in candidates:
        assert o.listed_on is not None
        by_day.setdefault(o.listed_on, set()).add(o.agreement_id)
    shown = {
        (day, line) for day, ids in by_day.items() for line in _listed(session, world, day, ids)
    }
    left_out = {id(o) for o in candidates if (o.listed_on, _line_of(o.item_key)) in shown}
    return [o for o in occurrences if id(o) not in left_out]


def _line_of(item_key: str) -> tuple[str, int] | None:
    """What a digest line names: a meeting, a task, a KPI (its one value due in two weeks)."""
    ref = ItemKey.parse(item_key)
    return (ref.kind, ref.id) if ref is not None else None


def _listed(
    session: Session, world: World, day: date, agreement_ids: Iterable[int]
) -> set[tuple[str, int]]:
    """What the digest of `day` showed in the agreements' 「今後2週間」 lines."""
    ids = sorted(i for i in agreement_ids if running_on(world.agreements[i], day))
    if not ids:
        return set()
    lines: dict[str, list[tuple[str, int]]] = {}
    for item in due_for_agreements(
        session, agreement_ids=ids, start=day, end=day + DIGEST_LISTS, tz=world.tz
    ):
        if item.overdue:
            continue  # 期限超過 is another section, and no lead is overdue
        shown = lines.setdefault(item.agreement_key, [])
        if len(shown) < DIGEST_LINES:  # the card's first lines; the rest is 「ほかN件」
            shown.append((item.kind, item.ref_id or 0))
    listed = {line for shown in lines.values() for line in shown}
    return listed - _written_since(session, datetime.combine(day, time.min, world.tz), listed)


def _written_since(
    session: Session, since: datetime, lines: set[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Meetings and tasks written (added, moved, restored by 取消) on or after the digest day:
    the digest did not list them as they are now (every chat write is in the change log)."""
    ids = sorted({i for kind, i in lines if kind in ("meeting", "action_item")})
    if not ids:
        return set()
    return {
        (table, row_id)
        for table, row_id in session.execute(
            select(ChangeLog.table, ChangeLog.row_id).where(
                ChangeLog.table.in_(("meeting", "action_item")),
                ChangeLog.row_id.in_(ids),
                or_(ChangeLog.created_at >= since, ChangeLog.undone_at >= since),
            )
        )
    }
