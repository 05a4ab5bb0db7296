"""The planner's index (storage.plan_index): a tick works out only the agreements with a moment
due or a write since, and plans exactly what a full evaluation plans."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.scheduler import AHEAD, INDEX_AHEAD, LOOKBACK, plan
from config.demo import DEMO_FILE, render_demo
from handlers.dispatch import respond
from handlers.messages import Incoming
from reminders.planner import RULES_VERSION, Planned, plan_notifications
from storage import plan_index
from storage.agreement_file import parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements
from storage.models import ActionItem, Agreement, Kpi, Meeting, Outbox, PlanChange, PlanNext
from storage.plan_mark import planned_until
from tests.conftest import NOW, TODAY, TOKYO
from tests.support import Clock


def both_ways(s: Session, now: datetime) -> tuple[list[Planned], list[Planned]]:
    """The tick at `now` planned through the index, and by working out every agreement."""
    start, end = now - LOOKBACK, now + AHEAD
    mark = planned_until(s)
    recent = mark if mark is not None and mark <= end else None
    common = {"now": now, "tz": TOKYO, "start": start, "end": end, "recent": recent}
    indexed = plan_notifications(
        s,
        **common,  # type: ignore[arg-type]
        due=plan_index.due(recent, end, RULES_VERSION) if recent is not None else None,
        horizon=end + INDEX_AHEAD,
        next_at={},
    )
    full = plan_notifications(s, **common)  # type: ignore[arg-type]
    return indexed, full


def expected_next(s: Session, end: datetime) -> dict[int, datetime]:
    """Each agreement's next moment, worked out from scratch over [end, end + INDEX_AHEAD)."""
    found: dict[int, datetime] = {}
    plan_notifications(
        s, now=end, tz=TOKYO, start=end, end=end, horizon=end + INDEX_AHEAD, next_at=found
    )
    return found


def stored_next(s: Session) -> dict[int, datetime]:
    rows = s.execute(select(PlanNext.agreement_id, PlanNext.next_at))
    return {a: at.astimezone(TOKYO) for a, at in rows}


def assert_index_right(s: Session, end: datetime) -> None:
    """Each stored next moment is the agreement's next one worked out afresh, or, when it had
    none within INDEX_AHEAD, that limit (never later than the true next moment)."""
    fresh = expected_next(s, end)
    for a, planned_from, next_at in s.execute(
        select(PlanNext.agreement_id, PlanNext.planned_from, PlanNext.next_at)
    ):
        assert end <= next_at <= fresh[a], a
        assert next_at == fresh[a] or next_at == planned_from + INDEX_AHEAD, a


def chat(app: Flask, clock: Clock, now: datetime, contact_key: str, text: str) -> str:
    """A chat write through handlers.dispatch.respond, in one transaction like the webhook's."""
    clock.now = now
    with transaction(app.extensions["renkei"].sessions) as s:
        reply = respond(s, Incoming("local", contact_key, text), now=now, tz=TOKYO)
    assert reply is not None
    return reply.as_text()


def test_ten_weeks_of_indexed_ticks_plan_exactly_what_a_full_evaluation_plans(
    demo: Flask, clock: Clock
) -> None:
    # Ten weeks over the year-end closure and the quarter's KPI requests, four ticks a day,
    # with chat writes on the way: every tick's plan, through the index and without, is equal.
    sessions = demo.extensions["renkei"].sessions
    with sessions() as s:
        task = s.scalar(select(ActionItem.id).order_by(ActionItem.id))
        kpi = s.scalar(select(Kpi.name).order_by(Kpi.id))
        agreements = s.scalar(select(func.count()).select_from(Agreement))
    writes = {
        datetime(2026, 12, 2, 12, 20, tzinfo=TOKYO): ("tanaka", "会議 12/4 14:00 臨時会議 市役所"),
        datetime(2026, 12, 9, 12, 20, tzinfo=TOKYO): ("tanaka", f"完了 {task}"),
        datetime(2026, 12, 16, 12, 20, tzinfo=TOKYO): ("tanaka", f"KPI {kpi} 120"),
        datetime(2027, 1, 13, 12, 20, tzinfo=TOKYO): ("tanaka", "会議 1/20 14:00 推進会議 市役所"),
    }
    day = datetime(2026, 11, 30, tzinfo=TOKYO)
    checked = planned = skipped = 0
    for _ in range(70):
        for hour, minute in ((7, 40), (9, 0), (12, 20), (17, 0)):
            now = day.replace(hour=hour, minute=minute)
            if now in writes:
                contact, text = writes[now]
                chat(demo, clock, now, contact, text)
            with sessions() as s:
                indexed, full = both_ways(s, now)
                mark = planned_until(s)
                if mark is not None:
                    due = plan_index.due(mark, now + AHEAD, RULES_VERSION)
                    worked = s.scalar(select(func.count()).select_from(Agreement).where(due))
                    skipped += (worked or 0) < (agreements or 0)
            assert indexed == full, now
            checked += 1
            planned += len(full)
            plan(sessions, now=now, tz=TOKYO)
        day += timedelta(days=1)
    assert checked == 280
    assert planned > 100  # every kind of reminder went through the comparison
    assert skipped > 200  # and most ticks did skip agreements with nothing due
    with sessions() as s:
        assert_index_right(s, planned_until(s))  # type: ignore[arg-type]


def test_a_chat_write_moves_the_agreements_next_moment(demo: Flask, clock: Clock) -> None:
    sessions = demo.extensions["renkei"].sessions
    first = datetime(2026, 12, 9, 10, 0, tzinfo=TOKYO)  # a Wednesday
    plan(sessions, now=first, tz=TOKYO)
    with sessions() as s:
        before = stored_next(s)
        assert set(before) == set(s.scalars(select(Agreement.id)))
    # A meeting on Friday: its "next business day" reminder is tomorrow 09:00.
    assert "臨時会議" in chat(demo, clock, first, "tanaka", "会議 12/11 14:00 臨時会議 市役所")
    with sessions() as s:
        meeting = s.scalars(select(Meeting).where(Meeting.title.contains("臨時会議"))).one()
        assert meeting.agreement_id in set(s.scalars(select(PlanChange.agreement_id)))
    tomorrow = datetime(2026, 12, 10, 9, 0, tzinfo=TOKYO)
    assert before[meeting.agreement_id] > tomorrow  # the write brings the moment forward
    second = first + timedelta(minutes=5)
    plan(sessions, now=second, tz=TOKYO)
    with sessions() as s:
        after = stored_next(s)
        assert after[meeting.agreement_id] == tomorrow
        assert not s.scalars(select(PlanChange)).all()  # the record was read and cleared
        assert_index_right(s, second + AHEAD)
    # and the reminder is planned for its moment
    plan(sessions, now=tomorrow - timedelta(minutes=5), tz=TOKYO)
    with sessions() as s:
        rows = s.scalars(select(Outbox).where(Outbox.subject.contains("臨時会議"))).all()
    assert rows and {r.send_at for r in rows} == {tomorrow}


def test_an_import_moves_the_next_moment(demo: Flask) -> None:
    sessions = demo.extensions["renkei"].sessions
    first = datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)
    plan(sessions, now=first, tz=TOKYO)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlanNext)) == 3
        before = stored_next(s)
    # The file loaded again, its dates a week later: every due date moves.
    text = render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY + timedelta(days=7))
    with transaction(sessions) as s:
        import_agreements(s, parse_agreement_file(text), tz=TOKYO, now=NOW)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlanNext)) == 0  # forgotten
    second = first + timedelta(minutes=5)
    plan(sessions, now=second, tz=TOKYO)
    with sessions() as s:
        after = stored_next(s)
        assert_index_right(s, second + AHEAD)
    assert after != before


def test_a_bulk_update_of_what_the_rules_read_forgets_the_index(demo: Flask) -> None:
    # e.g. the bot leaving a LINE group: every agreement's line_group at once
    sessions = demo.extensions["renkei"].sessions
    plan(sessions, now=datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO), tz=TOKYO)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlanNext)) == 3
    with transaction(sessions) as s:
        s.execute(update(Outbox).values(attempts=0))  # not read by the rules: kept
        assert s.scalar(select(func.count()).select_from(PlanNext)) == 3
        s.execute(update(Agreement).where(Agreement.id > 0).values(line_group=None))
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(PlanNext)) == 0


def test_a_kpi_value_records_its_agreement_for_the_next_tick(demo: Flask, clock: Clock) -> None:
    sessions = demo.extensions["renkei"].sessions
    now = datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)
    plan(sessions, now=now, tz=TOKYO)
    with sessions() as s:
        kpi = s.scalars(select(Kpi).order_by(Kpi.id)).first()
        assert kpi is not None
        assert not s.scalars(select(PlanChange)).all()
    chat(demo, clock, now, "tanaka", f"KPI {kpi.name} 120")
    with sessions() as s:
        assert set(s.scalars(select(PlanChange.agreement_id))) == {kpi.agreement_id}


def test_each_run_starts_with_empty_date_caches(demo: Flask) -> None:
    """The per-run arithmetic caches do not carry one run's windows into the next (each keeps
    up to 65,536 entries, and a run's windows never come back): what was worked out before a
    tick is gone after."""
    from datetime import date

    from reminders import run_caches
    from storage import due

    old_window = (
        "monthly",
        10,
        date(2001, 4, 1),
        date(2001, 4, 1),
        date(2002, 3, 31),
        date(2002, 3, 31),
    )
    due._periods_due(*old_window)
    assert due._periods_due.cache_info().currsize >= 1
    plan(demo.extensions["renkei"].sessions, now=NOW, tz=TOKYO)
    assert run_caches.entries() > 0  # the tick used them for its own window
    misses = due._periods_due.cache_info().misses
    due._periods_due(*old_window)  # worked out again: the tick emptied the cache first
    assert due._periods_due.cache_info().misses == misses + 1
