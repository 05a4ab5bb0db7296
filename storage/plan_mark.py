"""Where the planner's previous window ended.

Each tick plans [mark, now + a few minutes) for the agreement-wide schedules (KPI values,
renewals, reviews, cadence, dormancy, digests): a steady tick then costs what is due in its
minute, not a week of every agreement's schedules. Meetings and action items, which people
add at any moment, are still planned over the whole look-back. A loaded agreement file can put
moments in the past, so the importer forgets the mark and the next tick looks back fully.
Within the window, only the agreements with a moment due or a write since are worked out
(storage.plan_index keeps each agreement's next moment).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import plan_index
from storage.models import PlanMark

NAME = "planner"


def planned_until(session: Session) -> datetime | None:
    return session.scalar(select(PlanMark.planned_until).where(PlanMark.name == NAME))


def mark_planned(session: Session, until: datetime) -> None:
    mark = session.get(PlanMark, NAME)
    if mark is None:
        session.add(PlanMark(name=NAME, planned_until=until))
    else:
        mark.planned_until = until
    session.flush()


def forget(session: Session) -> None:
    """The next tick looks back fully and works out every agreement again (plan_index)."""
    session.execute(delete(PlanMark).where(PlanMark.name == NAME))
    plan_index.forget(session)
