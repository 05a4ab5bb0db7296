"""The clock's last heartbeat and planning run, kept in the database for `/healthz`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ClockStatus, Outbox

NAME = "clock"
# The clock beats every minute; five minutes of silence means it is not running.
STALE_AFTER = timedelta(minutes=5)


def _row(session: Session) -> ClockStatus:
    row = session.get(ClockStatus, NAME)
    if row is None:
        row = ClockStatus(name=NAME, plan_failures=0)
        session.add(row)
    return row


def beat(session: Session, now: datetime) -> None:
    _row(session).beat_at = now
    session.flush()


def record_plan(session: Session, now: datetime, *, failures: int) -> None:
    """A planning run finished; `failures` items or agreements were skipped in it."""
    row = _row(session)
    row.planned_at = row.beat_at = now
    row.plan_failures = failures
    session.flush()


def clock_status(session: Session) -> ClockStatus | None:
    return session.get(ClockStatus, NAME)


def clock_report(session: Session, *, now: datetime) -> dict[str, Any]:
    """What /healthz shows of the clock: its last beat (stale after 5 minutes; "unknown" before
    the first one), the planner's skipped items in its last run, and failed outbox rows."""
    row = clock_status(session)
    beat = row.beat_at if row is not None else None
    failed = session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.status == "failed")
    )
    return {
        "clock": "unknown" if beat is None else ("stale" if now - beat > STALE_AFTER else "ok"),
        "clock_heartbeat": None if beat is None else beat.isoformat(),
        "planner_failures": row.plan_failures if row is not None else 0,
        "outbox_failed": int(failed or 0),
    }
