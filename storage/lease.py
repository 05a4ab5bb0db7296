"""One active clock at a time, guarded by the database.

PostgreSQL: a session-level advisory lock on a connection the clock keeps open. When the process
dies its connection closes and the server releases the lock, so a standby clock takes over on
its next try. SQLite: a lease row with an expiry that the active clock renews; a standby takes
the row once it has expired. Either way a second clock is harmless (planning is idempotent,
claims are exclusive): the guard only saves it from doing the same work twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import ClockLease

log = logging.getLogger(__name__)
LEASE_TTL = timedelta(seconds=60)  # the clock renews every 15 s; 4 missed renewals hand over
# An arbitrary, fixed 64-bit key: "renkei clock" for pg_try_advisory_lock.
ADVISORY_KEY = 0x52454E4B45490001


class ClockGuard(Protocol):
    def hold(self, now: datetime) -> bool:
        """Take or keep the right to run; False while another clock holds it."""

    def release(self) -> None:
        """Give it up now (a clean stop), so a standby need not wait for the expiry."""


class LeaseGuard:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        holder: str,
        ttl: timedelta = LEASE_TTL,
        name: str = "clock",
    ) -> None:
        self.sessions, self.holder, self.ttl, self.name = sessions, holder, ttl, name

    def hold(self, now: datetime) -> bool:
        try:
            with transaction(self.sessions) as session:
                lease = session.scalar(
                    select(ClockLease).where(ClockLease.name == self.name).with_for_update()
                )
                if lease is None:
                    session.add(
                        ClockLease(name=self.name, holder=self.holder, expires_at=now + self.ttl)
                    )
                    return True
                if lease.holder != self.holder and lease.expires_at > now:
                    return False
                if lease.holder != self.holder:
                    log.warning(
                        "clock lease of %s expired: %s takes over", lease.holder, self.holder
                    )
                lease.holder, lease.expires_at = self.holder, now + self.ttl
                return True
        except IntegrityError:  # another clock created the row at the same moment
            return False

    def release(self) -> None:
        with transaction(self.sessions) as session:
            session.execute(
                delete(ClockLease).where(
                    ClockLease.name == self.name, ClockLease.holder == self.holder
                )
            )


class AdvisoryLockGuard:
    def __init__(self, engine: Engine, *, key: int = ADVISORY_KEY) -> None:
        self.engine, self.key = engine, key
        self._conn: Connection | None = None

    def hold(self, now: datetime) -> bool:
        if self._conn is not None:
            try:  # the lock lives as long as this connection does
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except DBAPIError:
                log.warning("clock lock connection lost; trying to take the lock again")
                self._close()
        conn = self.engine.connect()
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            )
            conn.commit()  # the lock is held by the session, not by a transaction left open
        except DBAPIError:
            conn.close()
            raise
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._conn.commit()
        finally:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never hand a lock-holding connection back to the pool
            finally:
                self._conn.close()
                self._conn = None


def make_guard(engine: Engine, sessions: sessionmaker[Session], *, holder: str) -> ClockGuard:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockGuard(engine)
    return LeaseGuard(sessions, holder=holder)
