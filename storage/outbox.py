"""The outbox: insert planned notifications once, claim them so deliverers share the work, and
record how each send ended. Nothing here talks to a chat platform.

Claims: PostgreSQL locks the candidate rows with FOR UPDATE SKIP LOCKED, so concurrent
deliverers take disjoint rows without waiting; SQLite has one writer at a time (the engine
begins every transaction IMMEDIATE), so the same select-then-update is already exclusive. A
claim is a lease (`claimed_until`): a deliverer that dies between send and mark leaves its rows
to be claimed again after the lease, and they are re-sent under the same batch key (LINE's
retry key), which the platform recognises as already accepted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Outbox

CLAIM_LEASE = timedelta(minutes=5)  # longer than any one push with its timeouts
MAX_ATTEMPTS = 8  # then the row is left `failed` for an operator (`renkei outbox retry`)


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose dedupe key is new; returns how many were inserted.

    ON CONFLICT DO NOTHING keeps it exact when two planners race on the same key. Each chunk
    goes as one executemany (psycopg pipelines it; RETURNING would make SQLAlchemy render
    every row into one statement, most of a Monday tick on PostgreSQL), and what it inserted
    is counted as the chunk's keys the table holds after it and did not before (drivers
    disagree on rowcount for ON CONFLICT DO NOTHING)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite if dialect == "sqlite" else None
    if module is None:  # pragma: no cover - other databases are not supported
        stmt: Any = insert(Outbox)
    else:
        stmt = module.insert(Outbox).on_conflict_do_nothing()
    connection = session.connection()
    inserted = 0
    for i in range(0, len(rows), 1000):
        chunk = rows[i : i + 1000]
        before = _held(session, [r["dedupe_key"] for r in chunk])
        connection.execute(stmt, chunk)
        inserted += _held(session, [r["dedupe_key"] for r in chunk]) - before
    return inserted


def _held(session: Session, keys: list[str]) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Outbox).where(Outbox.dedupe_key.in_(keys)))
        or 0
    )


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    wanted = list(set(keys))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):  # keep the IN list within every driver's limit
        found |= set(
            session.scalars(
                select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(wanted[i : i + 500]))
            )
        )
    return found


def claim(session: Session, *, now: datetime, token: str, limit: int = 500) -> list[Outbox]:
    """Due rows (pending and due, or claimed by a deliverer whose lease ran out), now ours."""
    rows = list(
        session.scalars(
            select(Outbox)
            .where(
                or_(
                    and_(Outbox.status == "pending", Outbox.next_attempt_at <= now),
                    and_(Outbox.status == "sending", Outbox.claimed_until < now),
                )
            )
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    # A push that failed before is re-sent whole under its retry key, never in part: a part
    # sent under the key of an earlier, accepted push would be taken as "already shown".
    keys = {r.batch_key for r in rows if r.batch_key} - {None}
    if keys:
        seen = {r.id for r in rows}
        rows += [
            r
            for r in session.scalars(
                select(Outbox)
                .where(Outbox.batch_key.in_(keys), Outbox.status.in_(("pending", "sending")))
                .with_for_update(skip_locked=True)
            )
            if r.id not in seen and (r.status == "pending" or (r.claimed_until or now) < now)
        ]
    for row in rows:
        row.status = "sending"
        row.claim_token = token
        row.claimed_until = now + CLAIM_LEASE
    session.flush()
    return rows


def cancel(session: Session, rows: Iterable[Outbox], reason: str) -> None:
    for row in rows:
        row.status, row.error, row.claim_token, row.claimed_until = "cancelled", reason, None, None


def assign_batch(rows: Sequence[Outbox]) -> str:
    """One push: the rows share a new batch key (the retry key), kept across retries."""
    key = str(uuid.uuid4())
    for row in rows:
        row.batch_key = key
    return key


def mark_sent(session: Session, batch_key: str, token: str, *, now: datetime) -> int:
    return _finish(session, batch_key, token, status="sent", sent_at=now, error=None)


def mark_retry(
    session: Session, batch_key: str, token: str, *, now: datetime, delay: timedelta, error: str
) -> int:
    return _finish(
        session, batch_key, token, status="pending", next_attempt_at=now + delay, error=error
    )


def mark_failed(session: Session, batch_key: str, token: str, *, error: str) -> int:
    return _finish(session, batch_key, token, status="failed", error=error)


def _finish(session: Session, batch_key: str, token: str, **values: Any) -> int:
    # Only while the claim is still ours: a deliverer whose lease ran out must not overwrite
    # what the one that took over has recorded.
    result = session.execute(
        update(Outbox)
        .where(Outbox.batch_key == batch_key, Outbox.claim_token == token)
        .values(claim_token=None, claimed_until=None, **values)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def list_rows(session: Session, *, failed_only: bool = False, limit: int = 100) -> list[Outbox]:
    stmt = select(Outbox).order_by(Outbox.send_at.desc(), Outbox.id.desc()).limit(limit)
    if failed_only:
        stmt = stmt.where(Outbox.status == "failed")
    return list(session.scalars(stmt))


def retry(session: Session, row_id: int, *, now: datetime) -> list[Outbox]:
    """Send a failed row again, with the rest of its push (same retry key); [] if not failed."""
    row = session.get(Outbox, row_id)
    if row is None or row.status != "failed":
        return []
    rows = (
        list(
            session.scalars(
                select(Outbox).where(Outbox.batch_key == row.batch_key, Outbox.status == "failed")
            )
        )
        if row.batch_key
        else [row]
    )
    for r in rows:
        r.status, r.attempts, r.next_attempt_at = "pending", 0, now
    session.flush()
    return rows


def readdress_pending(session: Session, *, platform: str, address: str, to: tuple[str, str]) -> int:
    """Point the waiting rows for one account at another (`to`: platform, address), e.g. when
    the person blocked the bot; rows being sent right now are left to finish. Returns how many.
    The batch key goes: the rows join a new push at their new address."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.platform == platform, Outbox.address == address, Outbox.status == "pending")
        .values(platform=to[0], address=to[1], batch_key=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
