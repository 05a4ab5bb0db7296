"""Each agreement's next reminder moment, so the 09:00 tick works out only what is due.

The planner writes, for every agreement it worked out, the earliest moment at or after its
window's end of any of the agreement's schedules (`PlanNext`; a lower bound: acknowledgements
and snoozes are not taken into account, so they can only make it early, never late). A later
tick whose mark is at or after `planned_from` skips the agreement until `next_at`.

What can move a moment is a write: every ORM flush that adds, changes or deletes a row the
rules read (the agreement, its settings, meetings, action items, KPIs and their values,
activities, contacts and their roles) records the agreement in `PlanChange`, whichever path
wrote it (chat, web, CLI, handovers); the next tick works those agreements out again. A bulk
UPDATE/DELETE of such a table, and an imported file (`plan_mark.forget`), forget the index.
Snoozes need no record: the planner works out every agreement with an item in a snooze.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, event, insert, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from storage.models import (
    ActionItem,
    Activity,
    Agreement,
    AgreementContact,
    Contact,
    Kpi,
    KpiEntry,
    Meeting,
    PlanChange,
    PlanNext,
    ReminderSettings,
)

CHUNK = 500  # ids per IN list, within every driver's limit
# Rows that carry their agreement's id; what the rules read of an agreement.
_BY_AGREEMENT = (Meeting, ActionItem, Kpi, Activity, AgreementContact, ReminderSettings)
_WATCHED = (Agreement, KpiEntry, Contact, *_BY_AGREEMENT)


def due(recent: datetime, end: datetime, rules: str) -> ColumnElement[bool]:
    """The agreements a tick planning [recent, end) must work out: not indexed from `recent` on
    by this code of the `rules`, with a moment before `end`, or changed by a write since."""
    known = select(PlanNext.agreement_id).where(
        PlanNext.planned_from <= recent, PlanNext.next_at >= end, PlanNext.rules == rules
    )
    return Agreement.id.not_in(known) | Agreement.id.in_(select(PlanChange.agreement_id))


def changes(session: Session) -> list[int]:
    """The change records a tick reads first (and clears when it records what it planned):
    a write made during the tick stays recorded for the next one."""
    return list(session.scalars(select(PlanChange.id)))


def record(
    session: Session,
    *,
    planned_from: datetime,
    next_at: dict[int, datetime],
    seen: Iterable[int],
    rules: str,
) -> None:
    """Store the next moments worked out by a tick, and clear the change records it read."""
    ids = sorted(next_at)
    for i in range(0, len(ids), CHUNK):
        session.execute(delete(PlanNext).where(PlanNext.agreement_id.in_(ids[i : i + CHUNK])))
    rows = [
        {"agreement_id": a, "planned_from": planned_from, "next_at": next_at[a], "rules": rules}
        for a in ids
    ]
    for i in range(0, len(rows), 1000):
        session.execute(insert(PlanNext), rows[i : i + 1000])
    done = sorted(seen)
    for i in range(0, len(done), CHUNK):
        session.execute(delete(PlanChange).where(PlanChange.id.in_(done[i : i + CHUNK])))


def forget(session: Session) -> None:
    """Every agreement is worked out again by the next tick."""
    session.execute(delete(PlanNext))
    session.execute(delete(PlanChange))


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _context: Any) -> None:
    agreements: set[int] = set()
    kpis: set[int] = set()
    contacts: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(obj, _WATCHED):
            continue
        if isinstance(obj, Agreement):
            agreements.add(obj.id)
        elif isinstance(obj, KpiEntry):
            kpis.update(_values(obj, "kpi_id"))
        elif isinstance(obj, Contact):
            contacts.add(obj.id)
        else:
            agreements.update(_values(obj, "agreement_id"))
    if not (agreements or kpis or contacts):
        return
    connection = session.connection()
    table = PlanChange.__table__
    if agreements:
        connection.execute(insert(table), [{"agreement_id": a} for a in sorted(agreements)])
    if kpis:
        connection.execute(
            insert(table).from_select(
                ["agreement_id"], select(Kpi.agreement_id).where(Kpi.id.in_(sorted(kpis)))
            )
        )
    if contacts:
        connection.execute(
            insert(table).from_select(
                ["agreement_id"],
                select(AgreementContact.agreement_id)
                .where(AgreementContact.contact_id.in_(sorted(contacts)))
                .distinct(),
            )
        )


def _values(obj: object, attribute: str) -> set[int]:
    """The attribute's value now and before this flush (a row moved to another agreement moves
    both agreements' schedules)."""
    history = inspect(obj).attrs[attribute].history
    values = (getattr(obj, attribute), *history.added, *history.unchanged, *history.deleted)
    return {v for v in values if v is not None}


@event.listens_for(Session, "do_orm_execute")
def _bulk_writes(state: ORMExecuteState) -> None:
    """A bulk UPDATE/DELETE of a table the rules read: which agreements it touched is not known
    here, so the whole index is forgotten (rare: e.g. a LINE group leaving every agreement)."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, _WATCHED):
        connection = state.session.connection()
        connection.execute(delete(PlanNext.__table__))
