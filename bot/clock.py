"""The `clock:` process: APScheduler running a few periodic jobs, never one job per reminder.

- heartbeat: logs whether the database answers;
- plan: turns what is due into outbox rows (idempotent, catches up after downtime);
- deliver: sends due outbox rows, one push per recipient, with retries.

Only one clock works at a time (storage.lease): each job first takes or renews the guard, and a
clock that does not hold it stands by, taking over once the active one is gone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.scheduler import DeliveryStats, deliver, plan
from bot.senders import Sender
from storage.clock_status import beat
from storage.db import no_tables, ping, transaction
from storage.lease import ClockGuard

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 60
PLAN_SECONDS = 60
DELIVER_SECONDS = 20


def utc_now() -> datetime:
    return datetime.now(UTC)


class ClockWorker:
    """What the jobs do, with the time injected (tests drive it with time-machine)."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        guard: ClockGuard,
        senders: Mapping[str, Sender],
        tz: ZoneInfo,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions, self.guard, self.senders, self.tz, self.clock = (
            sessions,
            guard,
            senders,
            tz,
            clock,
        )
        self.active = False
        self._lock = threading.Lock()  # the jobs run in threads; the guard is not thread-safe

    def lead(self) -> bool:
        """Take or keep the right to run; log when it changes hands."""
        with self._lock:
            try:
                holding = self.guard.hold(self.clock())
            except Exception as exc:
                if no_tables(exc):  # said plainly, once a minute, without a traceback
                    log.error("clock: the database has no tables yet: run `renkei db upgrade`")
                else:
                    log.exception("clock guard: database unreachable; standing by")
                holding = False
            if holding != self.active:
                log.info("clock is now %s", "active" if holding else "standing by")
            self.active = holding
            return holding

    def plan_job(self) -> int:
        if not self.lead():
            return 0
        try:
            return plan(self.sessions, now=self.clock(), tz=self.tz)
        except Exception:
            log.exception("planning failed; the next run catches up")
            return 0

    def deliver_job(self) -> DeliveryStats | None:
        if not self.lead():
            return None
        try:
            return deliver(self.sessions, self.senders, now=self.clock(), tz=self.tz)
        except Exception:
            log.exception("delivery failed; claimed rows are taken up again after their lease")
            return None

    def tick(self) -> DeliveryStats | None:
        """Plan, then deliver: what the two jobs do when their times coincide."""
        self.plan_job()
        return self.deliver_job()

    def stop(self) -> None:
        """Give the guard back, so a standby clock takes over at once."""
        with self._lock:
            try:
                self.guard.release()
            except Exception as exc:
                if not no_tables(exc):  # no tables: there was no guard to give back
                    log.exception("could not release the clock guard; it expires by itself")
            self.active = False


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def build_scheduler(
    engine: Engine,
    *,
    timezone: str,
    worker: ClockWorker | None = None,
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    scheduler = scheduler or BlockingScheduler(timezone=timezone)
    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=HEARTBEAT_SECONDS,
        args=[engine],
        # With a worker the beat is recorded, for /healthz (the web cannot see this process).
        kwargs={} if worker is None else {"sessions": worker.sessions, "clock": worker.clock},
        id="heartbeat",
        # A missed beat is worthless later: run the next one, never a backlog.
        coalesce=True,
        max_instances=1,
        misfire_grace_time=HEARTBEAT_SECONDS,
    )
    if worker is None:
        return scheduler
    start = datetime.now(ZoneInfo(timezone))
    for job_id, func, seconds in (
        ("plan", worker.plan_job, PLAN_SECONDS),
        ("deliver", worker.deliver_job, DELIVER_SECONDS),
    ):
        scheduler.add_job(
            func,
            "interval",
            seconds=seconds,
            id=job_id,
            next_run_time=start,  # at once on start: that is when downtime is caught up
            # coalesce: runs missed while the process was busy or suspended collapse into one;
            # each run covers everything due up to its own "now", so a backlog is pointless.
            coalesce=True,
            # max_instances=1: a slow run (a long catch-up, a platform timing out) must not
            # overlap its successor; claims would keep them apart, but they would only compete.
            max_instances=1,
            # misfire_grace_time=None: a late run is always worth running (it catches up), never
            # skipped as "too late".
            misfire_grace_time=None,
        )
    return scheduler


def heartbeat(
    engine: Engine,
    sessions: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> bool:
    try:
        alive = ping(engine)
        if alive and sessions is not None:
            with transaction(sessions) as session:
                beat(session, clock())
    except Exception:
        log.exception("clock heartbeat: database unreachable")
        return False
    log.debug("clock heartbeat: database %s", "ok" if alive else "unreachable")
    return alive
