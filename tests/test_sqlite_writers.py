"""SQLite writers take turns: a writer waits for the lock in short steps (not SQLite's own 1, 2,
5, 10 ms sleeps), gets it when the holder commits, and fails as SQLAlchemy's OperationalError
(hence a 503 and a redelivery, checked through a signed webhook) when it never comes; the
connection keeps its busy timeout."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

import storage.db
from storage.db import BUSY_TIMEOUT_SECONDS, transaction
from storage.events import claim
from storage.models import Activity, ProcessedEvent
from tests.support import line_body, line_text_event, link_account, post_line

NOW = datetime(2026, 12, 2, tzinfo=UTC)
SENT = {"sentMessages": [{"id": "1", "quoteToken": "q"}]}
ACTIVITY = "活動 11/20 防災訓練 参加者45名"


@pytest.fixture
def engine(app: Flask) -> Engine:
    engine: Engine = app.extensions["renkei"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL locks rows")
    return engine


def _hold_write_lock(engine: Engine, seconds: float, started: threading.Event) -> None:
    with engine.begin() as conn:  # BEGIN IMMEDIATE: the write lock, until the block ends
        claim(conn, platform="line", event_id="holder", now=NOW)
        started.set()
        time.sleep(seconds)


@contextmanager
def _lock_held(engine: Engine, seconds: float) -> Iterator[None]:
    """Another connection holds SQLite's write lock for `seconds` while the block runs."""
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(engine, seconds, started))
    holder.start()
    assert started.wait(5)
    try:
        yield
    finally:
        holder.join()


def test_a_writer_waits_for_the_lock_and_then_writes(engine: Engine) -> None:
    with _lock_held(engine, 0.3):
        t0 = time.monotonic()
        with engine.begin() as conn:
            waited = time.monotonic() - t0
            assert claim(conn, platform="line", event_id="waiter", now=NOW)
    assert waited >= 0.1  # it did wait for the holder, and did not fail
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ProcessedEvent)) == 2
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_SECONDS * 1000


def test_a_writer_that_never_gets_the_lock_fails_as_unavailable(
    engine: Engine, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_SECONDS", 0.2)
    with _lock_held(engine, 1.0):
        with pytest.raises(OperationalError, match="locked"), engine.begin() as conn:
            claim(conn, platform="line", event_id="never", now=NOW)
        # The chat path turns that into a 503 for the platform to redeliver (bot/inbound.py).
        sessions = app.extensions["renkei"].sessions
        with pytest.raises(OperationalError), transaction(sessions) as s:
            s.execute(text("SELECT 1"))
    with engine.connect() as conn:
        assert conn.scalar(select(ProcessedEvent.event_id)) == "holder"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200


def test_a_webhook_that_never_gets_the_lock_is_redelivered_and_applied_once(
    demo: Flask, line_api: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a signed LINE webhook: while another writer holds the lock past the wait, 活動
    gets 503 and writes nothing; LINE's redelivery after it is applied once, answered once."""
    engine: Engine = demo.extensions["renkei"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL locks rows")
    link_account(demo, "line", "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(SENT)
    client = demo.test_client()
    body = line_body(line_text_event(ACTIVITY, user_id="Utanaka", event_id="E-LOCKED"))
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_SECONDS", 0.2)
    with _lock_held(engine, 1.0):
        assert post_line(client, body).status_code == 503
    assert _count(demo, Activity) == 0
    assert post_line(client, body).status_code == 200  # the redelivery
    assert post_line(client, body).status_code == 200  # and one more
    assert _count(demo, Activity) == 1
    replies = [r for r, _ in line_api.log if r.path == "/v2/bot/message/reply"]
    assert len(replies) == 1
    assert "活動を記録しました" in json.loads(replies[0].get_data())["messages"][0]["text"]


def _count(app: Flask, model: type) -> int:
    with app.extensions["renkei"].sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)
