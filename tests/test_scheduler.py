"""The clock: its jobs, one active clock at a time, and catching up after downtime, once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import select

from bot.clock import ClockWorker, build_scheduler
from bot.scheduler import LOOKBACK, plan
from reminders.planner import plan_notifications
from storage.lease import LEASE_TTL, AdvisoryLockGuard, LeaseGuard
from storage.models import Outbox
from tests.conftest import TODAY, TOKYO

if TYPE_CHECKING:
    from tests.scheduler_support import Platforms

pytest_plugins = ("tests.scheduler_support",)


def hours(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every hour from 07:00 to 20:00: the clock's runs that matter (night runs send nothing)."""
    while start < end:
        if 7 <= start.hour <= 20:
            yield start
        start += timedelta(hours=1)


def assert_complete(app: Flask, platforms: Platforms, start: datetime, end: datetime) -> None:
    """None lost: everything the rules say is due in the window went into the outbox; and
    exactly once: every outbox row is sent and was shown once, nothing else was shown."""
    with app.extensions["renkei"].sessions() as s:
        planned = plan_notifications(s, now=start, tz=TOKYO, start=start, end=end)
        rows = s.scalars(select(Outbox)).all()
    assert planned and {p.dedupe_key for p in planned} <= {r.dedupe_key for r in rows}
    assert all(r.status == "sent" for r in rows)
    assert platforms.counts() == Counter((r.address, r.subject) for r in rows)


def test_the_clock_has_plan_and_deliver_jobs_chosen_on_purpose(
    app: Flask, platforms: Platforms
) -> None:
    engine = app.extensions["renkei"].engine
    jobs = {
        j.id: j
        for j in build_scheduler(
            engine, timezone="Asia/Tokyo", worker=platforms.worker(app)
        ).get_jobs()
    }
    assert set(jobs) == {"heartbeat", "plan", "deliver"}
    for job_id in ("plan", "deliver"):
        job = jobs[job_id]
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)


def test_the_real_scheduler_runs_the_jobs(app: Flask, platforms: Platforms) -> None:
    ran = threading.Event()
    clock = platforms.worker(app)
    deliver_job = clock.deliver_job

    def deliver_and_tell() -> object:
        result = deliver_job()
        ran.set()
        return result

    clock.deliver_job = deliver_and_tell  # type: ignore[method-assign]
    scheduler = build_scheduler(
        app.extensions["renkei"].engine,
        timezone="Asia/Tokyo",
        worker=clock,
        scheduler=BackgroundScheduler(timezone="Asia/Tokyo"),
    )
    scheduler.start()
    try:
        assert ran.wait(timeout=20), "the deliver job did not run at start"
    finally:
        scheduler.shutdown(wait=True)
        clock.stop()
    assert clock.active is True or clock.active is False  # stopped cleanly


def test_restart_after_a_day_of_downtime_catches_up_once(app: Flask, platforms: Platforms) -> None:
    platforms.load_minato(app, today=TODAY)
    start = datetime(2026, 12, 10, 8, tzinfo=TOKYO)
    down, up = datetime(2026, 12, 14, 0, tzinfo=TOKYO), datetime(2026, 12, 15, 10, tzinfo=TOKYO)
    end = datetime(2026, 12, 22, 8, tzinfo=TOKYO)
    clock = platforms.worker(app)
    with time_machine.travel(start, tick=False) as t:
        for now in [*hours(start, down), *hours(up, end)]:  # Monday 12/14: the clock is down
            t.move_to(now)
            clock.tick()
    assert_complete(app, platforms, start, end)
    late = [s for s in platforms.shown() if s.at.date() == up.date() and s.at.hour == 10]
    assert any(s.subject.startswith("【週次ダイジェスト】12/14") for s in late)
    assert any(s.subject.startswith("【タスク 期限超過（9日）】") for s in late)


def test_a_clock_back_at_night_waits_for_the_morning(app: Flask, platforms: Platforms) -> None:
    platforms.load_minato(app, today=TODAY)
    clock = platforms.worker(app)
    night, morning = (
        datetime(2026, 12, 14, 21, tzinfo=TOKYO),
        datetime(2026, 12, 15, 9, tzinfo=TOKYO),
    )
    with time_machine.travel(night, tick=False) as t:
        clock.tick()  # Monday's reminders are due, but it is 21:00
        assert platforms.shown() == []
        t.move_to(night.replace(hour=23, minute=30))
        clock.tick()
        assert platforms.shown() == []
        t.move_to(morning)
        clock.tick()
    shown = platforms.shown()
    assert shown and {s.at for s in shown} == {morning}
    assert any(s.subject.startswith("【週次ダイジェスト】12/14") for s in shown)


def test_a_first_start_does_not_flood_stale_reminders(app: Flask, platforms: Platforms) -> None:
    platforms.load_minato(app, today=TODAY)
    now = datetime(2026, 12, 11, 10, tzinfo=TOKYO)  # the meeting on 12/10 is over
    plan(app.extensions["renkei"].sessions, now=now, tz=TOKYO)
    with app.extensions["renkei"].sessions() as s:
        subjects = list(s.scalars(select(Outbox.subject)))
    assert not [x for x in subjects if "第8回 実務者会議" in x]  # its reminders are stale
    # of the weekly nags of one item only the latest is caught up: 12/7 (15 days), not 11/30
    overdue = [x for x in subjects if "防災訓練の実施報告書の提出" in x]
    assert overdue and {x.split("】")[0] for x in overdue} == {"【タスク 期限超過（15日）"}
    assert timedelta(days=7) <= LOOKBACK


def test_two_clocks_one_active_and_a_takeover(app: Flask, platforms: Platforms) -> None:
    platforms.load_minato(app, today=TODAY)
    one, two = platforms.worker(app, holder="clock-1"), platforms.worker(app, holder="clock-2")
    start, end = datetime(2026, 12, 1, 8, tzinfo=TOKYO), datetime(2026, 12, 16, 8, tzinfo=TOKYO)
    death = datetime(2026, 12, 9, 12, tzinfo=TOKYO)
    actives = []
    with time_machine.travel(start, tick=False) as t:
        for now in hours(start, end):
            t.move_to(now)
            alive = [one, two] if now < death else [two]
            for clock in alive:
                clock.tick()
            actives.append((now, [c.active for c in alive]))
            if now == death - timedelta(hours=1):
                kill(one)
    assert all(flags.count(True) == 1 for now, flags in actives if now < death)  # one at a time
    assert actives[0][1] == [True, False]
    after = [flags for now, flags in actives if now >= death + LEASE_TTL + timedelta(minutes=1)]
    assert after and all(flags == [True] for flags in after)  # the standby took over
    assert_complete(app, platforms, start, end)


def kill(clock: ClockWorker) -> None:
    """The process dies: its database connection (and advisory lock) goes, its lease stays
    until it expires."""
    if isinstance(clock.guard, AdvisoryLockGuard):
        clock.guard._close()


def test_lease_guard(app: Flask) -> None:
    sessions = app.extensions["renkei"].sessions
    a, b = LeaseGuard(sessions, holder="a"), LeaseGuard(sessions, holder="b")
    t0 = datetime(2026, 12, 1, 9, tzinfo=TOKYO)
    assert a.hold(t0) and not b.hold(t0)
    assert a.hold(t0 + LEASE_TTL / 2)  # renewed
    assert not b.hold(t0 + LEASE_TTL)  # still a's: renewed half-way
    assert b.hold(t0 + LEASE_TTL * 2)  # a stopped renewing: b takes over
    assert not a.hold(t0 + LEASE_TTL * 2)
    b.release()
    assert a.hold(t0 + LEASE_TTL * 2)  # a clean stop hands over at once


def test_advisory_lock_guard(app: Flask) -> None:
    engine = app.extensions["renkei"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (SQLite uses the lease row)")
    a, b = AdvisoryLockGuard(engine), AdvisoryLockGuard(engine)
    now = datetime(2026, 12, 1, 9, tzinfo=TOKYO)
    try:
        assert a.hold(now) and a.hold(now) and not b.hold(now)
        a._close()  # the holder's connection dies
        assert b.hold(now) and not a.hold(now)
        b.release()
        assert a.hold(now)
    finally:
        a.release()
        b.release()
