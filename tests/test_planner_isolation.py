"""One bad row never stops the planner: it is skipped, logged, counted in /healthz; the clock's
heartbeat and the failed outbox rows are reported there too; old event ids are purged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from bot.clock import build_scheduler, heartbeat
from bot.scheduler import AHEAD, LOOKBACK, due_now, plan
from reminders.planner import plan_notifications
from storage.db import transaction
from storage.models import Agreement, Meeting, Outbox, ProcessedEvent, ReminderSettings
from tests.conftest import NOW, TOKYO


def _expected(app: Flask) -> list:  # type: ignore[type-arg]
    """What a tick at NOW plans on the healthy demo data."""
    with app.extensions["renkei"].sessions() as s:
        planned = plan_notifications(s, now=NOW, tz=TOKYO, start=NOW - LOOKBACK, end=NOW + AHEAD)
    return due_now(planned, NOW)


def _outbox_keys(app: Flask) -> set[str]:
    with app.extensions["renkei"].sessions() as s:
        return set(s.scalars(select(Outbox.dedupe_key)))


def _agreement_id(app: Flask, key: str) -> int:
    with app.extensions["renkei"].sessions() as s:
        found = s.scalar(select(Agreement.id).where(Agreement.key == key))
        assert found is not None
        return found


def test_a_meeting_in_year_9999_leaves_every_other_reminder_planned(
    demo: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    r = demo.extensions["renkei"]
    expected = _expected(demo)
    assert "sakura-hikari" in {p.agreement_key for p in expected}  # another agreement's
    bad = _agreement_id(demo, "minato-acme")
    with transaction(r.sessions) as s:  # written directly: the chat refuses such a date now
        s.add(
            Meeting(
                agreement_id=bad,
                kind="steering",
                title="壊れた会議",
                starts_at=datetime(9999, 12, 31, 14, 59, tzinfo=UTC),
                place=None,
            )
        )
    with caplog.at_level(logging.ERROR, logger="reminders.planner"):
        plan(r.sessions, now=NOW, tz=TOKYO)
    keys = _outbox_keys(demo)
    # Only the bad agreement's schedules that read the latest meeting are skipped.
    skipped = (f"cadence:{bad}.", f"dormancy:{bad}.")
    missing = [p.dedupe_key for p in expected if not p.item_key.startswith(skipped)]
    missing = [k for k in missing if k not in keys]
    assert missing == []
    failures = [rec for rec in caplog.records if "could not plan" in rec.getMessage()]
    assert failures and all(f"{bad}" in rec.getMessage() for rec in failures)
    health = demo.test_client().get("/healthz").get_json()
    assert health["planner_failures"] == len(failures)


def test_broken_reminder_settings_use_the_defaults_and_are_counted(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    expected = _expected(demo)
    bad = _agreement_id(demo, "sakura-hikari")
    with transaction(r.sessions) as s:
        row = s.scalar(select(ReminderSettings).where(ReminderSettings.agreement_id == bad))
        if row is None:
            s.add(ReminderSettings(agreement_id=bad, settings={"meeting_days": ["x"]}))
        else:
            row.settings = {"meeting_days": ["x"], "dormancy_days": 10**12}
    plan(r.sessions, now=NOW, tz=TOKYO)
    keys = _outbox_keys(demo)
    other = [p.dedupe_key for p in expected if p.agreement_key != "sakura-hikari"]
    assert other and all(k in keys for k in other)
    assert demo.test_client().get("/healthz").get_json()["planner_failures"] == 1


def test_healthz_reports_the_clock_heartbeat_and_failed_rows(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    client = demo.test_client()
    first = client.get("/healthz")
    assert first.status_code == 200
    assert first.get_json()["clock"] == "unknown"  # no clock has beaten yet
    assert heartbeat(r.engine, r.sessions, clock=lambda: NOW - timedelta(minutes=6))
    stale = client.get("/healthz")
    assert stale.status_code == 503
    assert stale.get_json()["clock"] == "stale"
    assert heartbeat(r.engine, r.sessions, clock=lambda: NOW - timedelta(minutes=1))
    with transaction(r.sessions) as s:
        s.add(
            Outbox(
                dedupe_key="x|y|z",
                recipient="tanaka",
                platform="local",
                address="tanaka",
                kind="meeting",
                item_key="meeting:1",
                agreement_key="minato-acme",
                subject="s",
                payload={"text": "s"},
                status="failed",
                attempts=5,
                send_at=NOW,
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )
    ok = client.get("/healthz")
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["clock"] == "ok" and body["outbox_failed"] == 1
    assert body["clock_heartbeat"] == (NOW - timedelta(minutes=1)).astimezone(UTC).isoformat()


def test_the_clock_heartbeat_job_records_the_beat(demo: Flask) -> None:
    from bot.clock import ClockWorker
    from storage.lease import LeaseGuard

    r = demo.extensions["renkei"]
    worker = ClockWorker(
        sessions=r.sessions,
        guard=LeaseGuard(r.sessions, holder="t"),
        senders={},
        tz=TOKYO,
        clock=lambda: NOW,
    )
    [job] = [
        j
        for j in build_scheduler(r.engine, timezone="Asia/Tokyo", worker=worker).get_jobs()
        if j.id == "heartbeat"
    ]
    job.func(*job.args, **job.kwargs)
    assert demo.test_client().get("/healthz").get_json()["clock"] == "ok"


def test_the_planner_purges_event_ids_older_than_30_days(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        s.add(ProcessedEvent(platform="line", event_id="old", received_at=NOW - timedelta(days=31)))
        s.add(ProcessedEvent(platform="line", event_id="new", received_at=NOW - timedelta(days=29)))
    plan(r.sessions, now=NOW, tz=TOKYO)
    with r.sessions() as s:
        assert list(s.scalars(select(ProcessedEvent.event_id))) == ["new"]
