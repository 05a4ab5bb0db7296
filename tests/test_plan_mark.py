"""The planner's mark: a tick plans the agreement-wide schedules from where the previous one
ended, and still loses nothing the whole look-back would have planned."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select

from bot.scheduler import AHEAD, LOOKBACK, due_now, plan
from config.demo import DEMO_FILE, render_demo
from reminders.planner import plan_notifications
from storage.agreement_file import parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements
from storage.models import ChangeLog, Meeting, Outbox
from storage.plan_mark import mark_planned, planned_until
from tests.conftest import NOW, TODAY, TOKYO
from tests.support import Clock, say


def ticks(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    while start < end:
        if 7 <= start.hour <= 20:
            yield start
        start += step


def outbox_keys(app: Flask) -> set[str]:
    with app.extensions["renkei"].sessions() as s:
        return set(s.scalars(select(Outbox.dedupe_key)))


def whole_look_back(app: Flask, now: datetime) -> set[str]:
    """What a tick without a mark would want in the outbox at `now`."""
    with app.extensions["renkei"].sessions() as s:
        planned = plan_notifications(s, now=now, tz=TOKYO, start=now - LOOKBACK, end=now + AHEAD)
    return {p.dedupe_key for p in due_now(planned, now)}


def test_ticks_from_the_mark_lose_nothing_the_whole_look_back_plans(demo: Flask) -> None:
    # Two weeks of the demo over the year-end closure (three agreements; Monday digests, the
    # quarter's KPI requests, renewals, action items), a tick every 20 minutes in the day.
    sessions = demo.extensions["renkei"].sessions
    start = datetime(2026, 12, 24, 7, tzinfo=TOKYO)
    checked = 0
    for now in ticks(start, start + timedelta(days=14), timedelta(minutes=20)):
        plan(sessions, now=now, tz=TOKYO)
        if now.minute == 0 and now.hour in (8, 9, 13):
            missing = whole_look_back(demo, now) - outbox_keys(demo)
            assert not missing, f"{now}: {sorted(missing)[:5]}"
            checked += 1
    assert checked == 14 * 3
    with sessions() as s:
        assert planned_until(s) == now + AHEAD
        kinds = set(s.scalars(select(Outbox.kind)))
    # the check above covered every kind of schedule, not an empty outbox
    assert {"digest", "kpi_entry", "action_item", "renewal"} <= kinds, kinds


def test_a_meeting_added_after_its_reminder_moment_is_still_caught_up(
    demo: Flask, clock: Clock
) -> None:
    sessions = demo.extensions["renkei"].sessions
    morning = datetime(2026, 12, 1, 8, 55, tzinfo=TOKYO)  # a Tuesday
    plan(sessions, now=morning, tz=TOKYO)  # plans 09:00, and marks it done
    clock.now = morning.replace(hour=10)
    reply = say(demo, "tanaka", "会議 12/2 14:00 臨時会議 市役所")
    assert "臨時会議" in reply.as_text()
    plan(sessions, now=morning.replace(hour=10, minute=30), tz=TOKYO)
    with sessions() as s:
        late = s.scalars(select(Outbox).where(Outbox.subject.contains("臨時会議"))).all()
    # "the next business day is the meeting", due at 09:00, caught up at 10:30 for everyone
    assert late and {r.subject.split("】")[0] for r in late} == {"【次の営業日は会議です"}
    assert {r.send_at for r in late} == {morning.replace(hour=9, minute=0)}
    assert {r.recipient for r in late} == {"tanaka", "suzuki", "sato", "ito"}


def test_a_meeting_cancelled_and_restored_by_undo_is_caught_up(demo: Flask, clock: Clock) -> None:
    sessions = demo.extensions["renkei"].sessions
    clock.now = datetime(2026, 12, 8, 17, tzinfo=TOKYO)
    with sessions() as s:
        eighth = s.scalar(select(Meeting.id).where(Meeting.title.contains("第8回")))
    # the 12/10 meeting, cancelled the day before its last reminder
    assert "中止" in say(demo, "tanaka", f"会議 中止 {eighth}").as_text()
    plan(sessions, now=datetime(2026, 12, 9, 8, 55, tzinfo=TOKYO), tz=TOKYO)
    with sessions() as s:
        assert not s.scalars(select(Outbox).where(Outbox.subject.contains("第8回"))).all()
    clock.now = datetime(2026, 12, 9, 10, 0, tzinfo=TOKYO)
    cancelled_at = datetime(2026, 12, 9, 9, 55, tzinfo=TOKYO)
    with transaction(sessions) as s:  # the cancel was made five minutes ago, within 取消's reach
        for entry in s.scalars(select(ChangeLog)):
            entry.created_at = cancelled_at
    assert "取り消し" in say(demo, "tanaka", "取消").as_text()
    plan(sessions, now=datetime(2026, 12, 9, 10, 5, tzinfo=TOKYO), tz=TOKYO)
    with sessions() as s:
        back = s.scalars(select(Outbox).where(Outbox.subject.contains("第8回"))).all()
    assert back and {r.subject.split("】")[0] for r in back} == {"【次の営業日は会議です"}


def test_importing_a_file_forgets_the_mark(demo: Flask) -> None:
    sessions = demo.extensions["renkei"].sessions
    with transaction(sessions) as s:
        mark_planned(s, datetime(2026, 12, 1, 9, 10, tzinfo=TOKYO))
    with sessions() as s:
        assert planned_until(s) == datetime(2026, 12, 1, 9, 10, tzinfo=TOKYO)
    before = outbox_keys(demo)
    # the demo loaded again, as `renkei import` would: schedules may have changed
    data = parse_agreement_file(render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY))
    with transaction(sessions) as s:
        import_agreements(s, data, tz=TOKYO, now=NOW)
    with sessions() as s:
        assert planned_until(s) is None
    assert outbox_keys(demo) == before


def test_a_clock_set_back_plans_the_whole_look_back(demo: Flask) -> None:
    sessions = demo.extensions["renkei"].sessions
    later = datetime(2026, 12, 8, 9, tzinfo=TOKYO)
    with transaction(sessions) as s:
        mark_planned(s, later)  # a mark from the future: a clock that went back
    now = datetime(2026, 12, 1, 9, 5, tzinfo=TOKYO)
    plan(sessions, now=now, tz=TOKYO)
    assert whole_look_back(demo, now) <= outbox_keys(demo)
    with sessions() as s:
        assert planned_until(s) == now + AHEAD
