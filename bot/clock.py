"""The `clock:` process: APScheduler running a few periodic jobs (a heartbeat for now)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from storage.db import ping

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 60


def build_scheduler(engine: Engine, *, timezone: str) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=timezone)
    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=HEARTBEAT_SECONDS,
        args=[engine],
        id="heartbeat",
        # A missed beat is worthless later: run the next one, never a backlog.
        coalesce=True,
        max_instances=1,
        misfire_grace_time=HEARTBEAT_SECONDS,
    )
    return scheduler


def heartbeat(engine: Engine) -> bool:
    alive = ping(engine)
    log.info("clock heartbeat: database %s", "ok" if alive else "unreachable")
    return alive
