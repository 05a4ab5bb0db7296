"""Claiming platform event ids, so a redelivered webhook is acknowledged but not applied twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ProcessedEvent


def claim_event(session: Session, *, platform: str, event_id: str, now: datetime) -> bool:
    """Record the event id inside the caller's transaction; False when it was seen before.

    Insert-on-conflict-do-nothing keeps the check atomic: a retry that races the first delivery
    waits on the unique index and then finds the row, whichever worker it reached.
    """
    values = {"platform": platform, "event_id": event_id, "received_at": now}
    stmt = _CLAIM.get(session.get_bind().dialect.name, _CLAIM_PLAIN)
    return session.execute(stmt, values).first() is not None


# Built once per dialect: every message runs one. RETURNING, not rowcount: drivers disagree on
# rowcount for ON CONFLICT DO NOTHING.
_CLAIM = {
    "postgresql": postgresql.insert(ProcessedEvent)
    .on_conflict_do_nothing()
    .returning(ProcessedEvent.id),
    "sqlite": sqlite.insert(ProcessedEvent).on_conflict_do_nothing().returning(ProcessedEvent.id),
}
_CLAIM_PLAIN = insert(ProcessedEvent).returning(ProcessedEvent.id)  # other databases: unsupported


# Platforms redeliver within minutes (LINE, Slack: within the hour); a month is ample.
KEEP_EVENTS = timedelta(days=30)


def purge_events(session: Session, *, now: datetime) -> int:
    """Forget event ids older than KEEP_EVENTS (the clock does this), so the table stays small."""
    result = session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < now - KEEP_EVENTS)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
