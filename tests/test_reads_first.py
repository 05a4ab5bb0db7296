"""A message that only reads is answered in a transaction that may not write, and its event is
claimed in a transaction of its own; the first write turns it into the one-transaction path.
Checked on the statements a signed LINE webhook really sends to the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import event, func, select

from storage.db import WouldWrite, reads_first, transaction
from storage.models import Activity, PendingQuestion, ProcessedEvent
from tests.support import RecordingExecutor, line_body, line_text_event, link_account, post_line

# How a claim of an event id reads: alone (SQLite), or with its sender (PostgreSQL).
CLAIMS = {"INSERT INTO PROCESSED_EVENT", "WITH CLAIM AS"}
SENT = {"sentMessages": [{"id": "1", "quoteToken": "q"}]}


@pytest.fixture
def transactions(demo: Flask) -> Iterator[list[list[str]]]:
    """The statements of each transaction the app runs, in order (BEGIN … COMMIT/ROLLBACK)."""
    engine = demo.extensions["renkei"].engine
    seen: list[list[str]] = []

    def begin(_conn: Any) -> None:
        seen.append([])

    def statement(_conn: Any, _cur: Any, sql: str, *_: Any) -> None:
        if seen and not sql.lstrip().upper().startswith("BEGIN"):
            seen[-1].append(" ".join(sql.split()[:3]).upper())

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", statement)
    yield seen
    event.remove(engine, "begin", begin)
    event.remove(engine, "before_cursor_execute", statement)


def _send(demo: Flask, line_api: HTTPServer, executor: RecordingExecutor, text: str, eid: str):
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(SENT)
    body = line_body(line_text_event(text, user_id="Utanaka", event_id=eid, reply_token=eid))
    res = post_line(demo.test_client(), body)
    executor.drain()
    return res


def _count(demo: Flask, model: type) -> int:
    with demo.extensions["renkei"].sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_question_holds_the_write_lock_only_for_its_claim(
    demo: Flask, line_api: HTTPServer, executor: RecordingExecutor, transactions: list[list[str]]
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    transactions.clear()
    res = _send(demo, line_api, executor, "予定", "E-read")
    assert res.status_code == 200
    writing = [t for t in transactions if any(s in CLAIMS for s in t)]
    if _sqlite(demo):
        # One transaction writes, and all it does is claim the event: the due list was read
        # before, in a transaction that wrote nothing.
        assert len(writing) == 1 and writing[0] == ["INSERT INTO PROCESSED_EVENT"], transactions
        reading = [t for t in transactions if t and t is not writing[0]]
        assert any(len(t) >= 5 for t in reading), transactions  # the due list's queries
    else:  # PostgreSQL locks rows: the claim and the reads are one transaction, and the claim,
        # the sender and their open question are one statement (a data-modifying CTE)
        assert [t for t in transactions if t] == writing and len(writing) == 1, transactions
        assert writing[0][0] == "WITH CLAIM AS" and len(writing[0]) >= 5
        assert not any(s.startswith("SELECT CONTACT.") for s in writing[0])
    assert _count(demo, ProcessedEvent) == 1
    sent = [r for r, _ in line_api.log if r.path == "/v2/bot/message/reply"]
    assert len(sent) == 1 and "予定・期限" in json.loads(sent[0].get_data())["messages"][0]["text"]


def test_a_command_that_writes_runs_once_with_its_claim_in_one_transaction(
    demo: Flask, line_api: HTTPServer, executor: RecordingExecutor, transactions: list[list[str]]
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    transactions.clear()
    res = _send(demo, line_api, executor, "活動 11/20 防災訓練 参加者45名", "E-write")
    assert res.status_code == 200
    # 活動 always writes: no attempt without the write lock first, one transaction in all.
    [writing] = [t for t in transactions if t]
    assert CLAIMS & set(writing) and "INSERT INTO ACTIVITY" in writing
    assert _count(demo, Activity) == 1 and _count(demo, ProcessedEvent) == 1
    # The redelivery is acknowledged, writes nothing and is not answered again.
    _send(demo, line_api, executor, "活動 11/20 防災訓練 参加者45名", "E-write")
    assert _count(demo, Activity) == 1
    assert len([r for r, _ in line_api.log if r.path == "/v2/bot/message/reply"]) == 1


def test_a_redelivered_question_is_answered_once(
    demo: Flask, line_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    for _ in range(3):
        assert _send(demo, line_api, executor, "今週", "E-again").status_code == 200
    assert len([r for r, _ in line_api.log if r.path == "/v2/bot/message/reply"]) == 1
    assert _count(demo, ProcessedEvent) == 1


def test_a_proposal_from_free_text_is_redone_as_a_write_and_stored(
    demo: Flask, line_api: HTTPServer, executor: RecordingExecutor, transactions: list[list[str]]
) -> None:
    """Understanding free text reads; storing the proposal it makes is a write: the attempt
    stops there, and the whole message is redone with its claim."""
    link_account(demo, "line", "tanaka", "Utanaka")
    transactions.clear()
    _send(demo, line_api, executor, "防災訓練おわりました、参加者85人でした", "E-free")
    *attempt, redone = [t for t in transactions if t]
    assert len(attempt) == (1 if _sqlite(demo) else 0)  # PostgreSQL: one transaction at once
    assert not any(s.startswith("INSERT") for t in attempt for s in t)
    assert CLAIMS & set(redone) and "INSERT INTO PENDING_QUESTION" in redone
    assert _count(demo, PendingQuestion) == 1 and _count(demo, Activity) == 0


def test_a_read_that_closes_the_open_question_closes_it_with_the_claim(
    demo: Flask, line_api: HTTPServer, executor: RecordingExecutor, transactions: list[list[str]]
) -> None:
    """予定 sent while a question is open closes it (a typed 「1」 must not answer it later),
    and that DELETE needs nothing the reads found: on SQLite it rides in the claim's
    transaction instead of making the message a write that is redone whole."""
    link_account(demo, "line", "tanaka", "Utanaka")
    _send(demo, line_api, executor, "防災訓練おわりました、参加者85人でした", "E-ask")
    assert _count(demo, PendingQuestion) == 1
    transactions.clear()
    _send(demo, line_api, executor, "予定", "E-due")
    done = [t for t in transactions if t]
    assert _count(demo, PendingQuestion) == 0 and _count(demo, ProcessedEvent) == 2
    if _sqlite(demo):
        assert len(done) == 2, done  # no third transaction: the message was not redone
        reading, claiming = done
        assert not any(s.startswith(("INSERT", "DELETE")) for s in reading), done
        assert claiming == ["INSERT INTO PROCESSED_EVENT", "DELETE FROM PENDING_QUESTION"], done
    else:
        [one] = done
        assert one[0] == "WITH CLAIM AS" and "DELETE FROM PENDING_QUESTION" in one
    due = json.loads([r for r, _ in line_api.log][-1].get_data())["messages"][0]["text"]
    assert "予定・期限" in due
    # 「1」 now answers nothing: the question is gone, so it is not taken as its first choice.
    _send(demo, line_api, executor, "1", "E-one")
    assert _count(demo, Activity) == 0
    # A redelivery of 予定 writes nothing and closes nothing twice.
    transactions.clear()
    _send(demo, line_api, executor, "予定", "E-due")
    assert not any("DELETE FROM PENDING_QUESTION" in t for t in transactions)


def test_reads_first_refuses_a_flush_and_what_is_left_unflushed(demo: Flask) -> None:
    sessions = demo.extensions["renkei"].sessions
    with reads_first(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == 0  # reads are fine
    with pytest.raises(WouldWrite), reads_first(sessions) as session:
        session.add(ProcessedEvent(platform="line", event_id="x", received_at=_now(demo)))
        session.scalar(select(func.count()).select_from(Activity))  # autoflush: an INSERT
    with pytest.raises(WouldWrite), reads_first(sessions) as session:
        session.add(ProcessedEvent(platform="line", event_id="y", received_at=_now(demo)))
    with transaction(sessions) as session:  # the ordinary path still writes
        session.add(ProcessedEvent(platform="line", event_id="z", received_at=_now(demo)))
    assert _count(demo, ProcessedEvent) == 1


def _sqlite(demo: Flask) -> bool:
    return bool(demo.extensions["renkei"].engine.dialect.name == "sqlite")


def _now(demo: Flask) -> Any:
    return demo.extensions["renkei"].clock()


def test_a_reply_refused_by_line_is_logged_and_nothing_else_changes(
    demo: Flask,
    line_api: HTTPServer,
    executor: RecordingExecutor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Replies skip the SDK's request models but not its client: LINE's error is still an
    ApiException, logged with its status."""
    link_account(demo, "line", "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(
        {"message": "Invalid reply token"}, status=400
    )
    body = line_body(line_text_event("予定", user_id="Utanaka", event_id="E-bad", reply_token="x"))
    assert post_line(demo.test_client(), body).status_code == 200
    executor.drain()
    assert "LINE reply failed: status 400" in caplog.text
    sent = [r for r, _ in line_api.log if r.path == "/v2/bot/message/reply"]
    assert len(sent) == 1 and sent[0].headers["Authorization"].startswith("Bearer ")
    assert _count(demo, ProcessedEvent) == 1
