"""The database unreachable for one request (SQLite and PostgreSQL): LINE and Slack get 503 and redeliver, and the
redelivered event is applied exactly once. SQL errors are logged without their parameters, no
message text is logged at INFO, and SQLite waits far less than a worker lives."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bot.log_format import FORMAT, RedactingFormatter
from storage.db import BUSY_TIMEOUT_SECONDS, transaction
from storage.models import Activity, ProcessedEvent
from tests.support import (
    RecordingExecutor,
    line_body,
    line_text_event,
    link_account,
    post_line,
    post_slack,
    slack_event_body,
)

SENT = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "q"}]}
TEXT = "活動 11/20 停電中の清掃活動 参加者12名"


@contextmanager
def database_away(app: Flask) -> Iterator[None]:
    """Every new connection fails while it lasts. SQLite: the directory holding the file is
    elsewhere. PostgreSQL: the database refuses connections and its sessions are ended."""
    r = app.extensions["renkei"]
    r.engine.dispose()  # no pooled connection outlives the outage
    url = make_url(r.settings.database_url)
    if url.get_backend_name() == "sqlite":
        directory = Path(str(url.database)).parent
        away = directory.with_name(directory.name + "-away")
        os.rename(directory, away)
        try:
            yield
        finally:
            r.engine.dispose()
            os.rename(away, directory)
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
        r.engine.dispose()


def _activities(app: Flask) -> int:
    with app.extensions["renkei"].sessions() as s:
        return int(s.scalar(select(func.count()).where(Activity.title == "停電中の清掃活動")) or 0)


def test_line_gets_503_and_the_redelivery_is_applied_once(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(SENT)
    client = demo.test_client()
    body = line_body(line_text_event(TEXT, user_id="Utanaka", event_id="01OUTAGE"))

    with database_away(demo):
        down = post_line(client, body)
    assert down.status_code == 503
    assert not [req for req, _ in line_api.log if req.path == "/v2/bot/message/reply"]

    again = post_line(client, body)  # LINE's redelivery: the same webhookEventId
    twice = post_line(client, body)
    assert (again.status_code, twice.status_code) == (200, 200)
    assert _activities(demo) == 1
    replies = [req for req, _ in line_api.log if req.path == "/v2/bot/message/reply"]
    assert len(replies) == 1
    assert "活動を記録しました" in json.loads(replies[0].get_data())["messages"][0]["text"]


def test_slack_gets_503_and_the_retry_is_applied_once(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_account(demo, "slack", "tanaka", "Utanaka")
    slack_api.expect_request("/api/chat.postMessage", method="POST").respond_with_json(
        {"ok": True, "channel": "D1", "ts": "1.1"}
    )
    client = demo.test_client()
    event = {
        "type": "message",
        "channel": "D1",
        "channel_type": "im",
        "user": "Utanaka",
        "text": TEXT,
        "ts": "1700000000.000100",
    }
    body = slack_event_body(event, event_id="EvOUTAGE")
    with database_away(demo):
        down = post_slack(client, body)
    executor.drain()
    assert down.status_code == 503
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert post_slack(client, body, extra=retry).status_code == 200
    executor.drain()
    assert post_slack(client, body, extra={**retry, "X-Slack-Retry-Num": "2"}).status_code == 200
    executor.drain()
    assert _activities(demo) == 1
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalar(select(func.count()).where(ProcessedEvent.event_id == "EvOUTAGE")) == 1


def test_sql_errors_are_logged_without_their_parameters(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    secret = "山田さんの個人的なメッセージ"
    with transaction(r.sessions) as s:
        s.add(ProcessedEvent(platform="line", event_id=secret, received_at=r.clock()))
    with pytest.raises(IntegrityError) as caught, transaction(r.sessions) as s:
        s.execute(
            insert(ProcessedEvent).values(platform="line", event_id=secret, received_at=r.clock())
        )
    assert "SQL parameters hidden" in str(caught.value)
    # What the app's log handler writes: PostgreSQL also quotes the key back in DETAIL.
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "insert failed", None, None)
    record.exc_info = (type(caught.value), caught.value, caught.value.__traceback__)
    line = RedactingFormatter(FORMAT).format(record)
    assert secret not in line and "IntegrityError" in line


def test_no_message_text_is_logged_at_info(
    demo: Flask, line_api: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(SENT)
    marker = "機密メモ山田"
    client = demo.test_client()
    with caplog.at_level(logging.INFO):
        for i, text in enumerate(
            [f"活動 11/20 {marker} 参加者3名", f"タスク 12/5 {marker}", marker]
        ):
            post_line(client, line_body(line_text_event(text, user_id="Utanaka", event_id=f"I{i}")))
    assert caplog.records  # something was logged
    assert not [r.getMessage() for r in caplog.records if marker in r.getMessage()]


def test_sqlite_busy_timeout_is_well_under_the_worker_timeout(demo: Flask) -> None:
    engine = demo.extensions["renkei"].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as conn:
        busy_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert busy_ms == BUSY_TIMEOUT_SECONDS * 1000 <= 10_000  # gunicorn kills a worker at 30 s
