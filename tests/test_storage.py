"""Storage: migrations match the models, SQLite settings, UTC times, fiscal periods, dedupe."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import select, text

from storage.db import alembic_config, transaction
from storage.events import claim_event
from storage.fiscal import fiscal_year, period_end, period_label, period_start
from storage.identities import create_invite, redeem_invite
from storage.models import ChatIdentity, Contact, Organization, Outbox, ProcessedEvent
from storage.outbox import insert_new


def test_migrations_and_models_agree(database_url: str) -> None:
    command.check(alembic_config(database_url))  # raises if autogenerate would find a change


def test_sqlite_runs_with_wal_and_foreign_keys(app: Flask) -> None:
    engine = app.extensions["renkei"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(app: Flask) -> None:
    r = app.extensions["renkei"]
    with pytest.raises(Exception, match=r"(?i)foreign key"), transaction(r.sessions) as s:
        s.add(Contact(key="ghost", name="幽霊", organization_id=999))


def test_times_are_stored_in_utc_and_come_back_aware(app: Flask) -> None:
    r = app.extensions["renkei"]
    tokyo_morning = datetime(2026, 11, 25, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    with transaction(r.sessions) as s:
        s.add(ProcessedEvent(platform="line", event_id="t", received_at=tokyo_morning))
    with r.sessions() as s:
        stored = s.scalar(select(ProcessedEvent.received_at))
    assert stored == tokyo_morning and stored.tzinfo is not None
    assert stored.astimezone(UTC).hour == 0


def test_naive_datetimes_are_refused(app: Flask) -> None:
    r = app.extensions["renkei"]
    with pytest.raises(Exception, match="naive datetime"), transaction(r.sessions) as s:
        s.add(ProcessedEvent(platform="line", event_id="n", received_at=datetime(2026, 1, 1)))
        s.flush()


def test_an_event_id_is_claimed_once(app: Flask) -> None:
    r = app.extensions["renkei"]
    now = datetime(2026, 11, 25, tzinfo=UTC)
    results = []
    for platform, event_id in [("line", "A"), ("line", "A"), ("slack", "A"), ("line", "B")]:
        with transaction(r.sessions) as s:
            results.append(claim_event(s, platform=platform, event_id=event_id, now=now))
    assert results == [True, False, True, True]


@pytest.mark.parametrize(
    ("day", "period", "start", "label"),
    [
        (date(2026, 11, 25), "monthly", date(2026, 11, 1), "2026年11月"),
        (date(2026, 11, 25), "quarterly", date(2026, 10, 1), "2026年度 第3四半期"),
        (date(2027, 2, 1), "quarterly", date(2027, 1, 1), "2026年度 第4四半期"),
        (date(2026, 4, 1), "quarterly", date(2026, 4, 1), "2026年度 第1四半期"),
        (date(2027, 3, 31), "yearly", date(2026, 4, 1), "2026年度"),
        (date(2026, 3, 31), "yearly", date(2025, 4, 1), "2025年度"),
    ],
)
def test_fiscal_periods(day: date, period: str, start: date, label: str) -> None:
    assert period_start(day, period) == start
    assert period_label(start, period) == label
    assert period_start(period_end(start, period), period) == start
    assert period_end(start, period) + timedelta(days=1) == period_start(
        period_end(start, period) + timedelta(days=1), period
    )


def test_fiscal_year_starts_in_april() -> None:
    assert [fiscal_year(date(2027, m, 1)) for m in (1, 3, 4, 12)] == [2026, 2026, 2027, 2027]


def test_invite_codes_are_single_use_and_expire(app: Flask) -> None:
    r = app.extensions["renkei"]
    now = datetime(2026, 11, 25, tzinfo=UTC)
    with transaction(r.sessions) as s:
        org = Organization(key="o", name="市", kind="municipality")
        s.add(org)
        s.flush()
        a = Contact(key="a", name="A", organization_id=org.id)
        b = Contact(key="b", name="B", organization_id=org.id)
        s.add_all([a, b])
        s.flush()
        used, old = create_invite(s, a, now=now).code, create_invite(s, b, now=now).code
    with transaction(r.sessions) as s:
        assert (
            redeem_invite(s, code=used.lower(), platform="line", external_id="U1", now=now).key
            == "a"
        )
        assert redeem_invite(s, code=used, platform="line", external_id="U2", now=now) is None
        late = now + timedelta(days=7, seconds=1)
        assert redeem_invite(s, code=old, platform="slack", external_id="U3", now=late) is None
        assert redeem_invite(s, code="ZZZZZZ", platform="slack", external_id="U3", now=now) is None
    with r.sessions() as s:
        assert s.scalars(select(ChatIdentity.external_id)).all() == ["U1"]


def test_concurrent_deliveries_of_one_event_apply_once(demo: Flask) -> None:
    """Bolt acks first and handles in a thread, so a retry can race the first delivery."""
    from handlers.messages import Incoming
    from storage.models import Activity

    inbound = demo.extensions["renkei"].inbound
    incoming = Incoming("local", "tanaka", "活動 11/20 防災訓練 参加者45名")
    barrier = threading.Barrier(4)

    def deliver() -> object:
        barrier.wait()
        return inbound.handle(incoming, event_id="same-event")

    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda _: deliver(), range(4)))
    answered = [r for r in replies if r is not None]
    assert len(answered) == 1 and "活動を記録しました" in answered[0].text
    with demo.extensions["renkei"].sessions() as s:
        assert len(s.scalars(select(Activity)).all()) == 1


def test_a_long_read_does_not_hold_up_writers(app: Flask) -> None:
    """The planner reads in `read_only`; on SQLite a chat write must not wait for it."""
    from storage.db import read_only

    r = app.extensions["renkei"]
    now = datetime(2026, 11, 25, tzinfo=UTC)

    def write() -> bool:
        with transaction(r.sessions) as s:
            return claim_event(s, platform="line", event_id="during-read", now=now)

    with read_only(r.sessions) as reader, ThreadPoolExecutor(max_workers=1) as pool:
        reader.execute(select(ProcessedEvent.id)).all()  # the read transaction is open
        assert pool.submit(write).result(timeout=5) is True
    with r.sessions() as s:
        assert s.scalar(select(ProcessedEvent.event_id)) == "during-read"


def test_outbox_insert_new_inserts_each_dedupe_key_once_in_batches(app: Flask) -> None:
    sessions = app.extensions["renkei"].sessions
    now = datetime(2026, 12, 1, tzinfo=UTC)

    def row(key: str) -> dict[str, object]:
        return {
            "dedupe_key": key,
            "recipient": "tanaka",
            "platform": "local",
            "address": "tanaka",
            "kind": "meeting",
            "item_key": "meeting:1",
            "agreement_key": "minato-acme",
            "subject": key,
            "payload": {"text": key},
            "status": "pending",
            "attempts": 0,
            "send_at": now,
            "next_attempt_at": now,
            "created_at": now,
        }

    first = [row(f"k{i}") for i in range(2_500)]  # three chunks
    with transaction(sessions) as s:
        assert insert_new(s, first) == 2_500
    again = [row(f"k{i}") for i in range(2_400, 2_600)]  # 100 known, 100 new
    with transaction(sessions) as s:
        assert insert_new(s, again) == 100
    with sessions() as s:
        keys = list(s.scalars(select(Outbox.dedupe_key)))
    assert len(keys) == len(set(keys)) == 2_600
