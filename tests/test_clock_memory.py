"""The clock runs for months: what it sends must not stay in its memory (bench/RESULTS.md
finding 16: a local sender that kept every notification grew the clock after every Monday)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from bot.clock import ClockWorker
from bot.clock_main import senders_for
from bot.senders import LocalSender
from config import Settings
from handlers.messages import Reply
from storage.lease import make_guard
from storage.models import Outbox
from tests.conftest import TODAY, TOKYO

MONDAY = datetime.combine(TODAY - timedelta(days=TODAY.weekday()), datetime.min.time(), TOKYO)


def test_the_clock_keeps_nothing_of_what_it_sent_to_the_local_log(
    demo: Flask, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Three weeks of business mornings through the clock's own senders and worker: every
    local notification is logged and recorded sent in the outbox, and none stays in memory."""
    r = demo.extensions["renkei"]
    # No chat platform configured: every notification goes to the local log.
    senders = senders_for(Settings(_env_file=None, database_url=database_url))  # type: ignore[call-arg]
    assert set(senders) == {"local"}
    local = senders["local"]
    assert isinstance(local, LocalSender)
    now = [MONDAY]
    worker = ClockWorker(
        sessions=r.sessions,
        guard=make_guard(r.engine, r.sessions, holder="memory-test"),
        senders=senders,
        tz=TOKYO,
        clock=lambda: now[0],
    )
    caplog.set_level(logging.INFO, logger="bot.senders")
    try:
        for day in range(21):
            for hour in (9, 13):
                now[0] = (MONDAY + timedelta(days=day)).replace(hour=hour)
                worker.tick()
    finally:
        worker.stop()
    with r.sessions() as s:
        sent = s.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.platform == "local", Outbox.status == "sent")
        )
    logged = [m for m in caplog.messages if m.startswith("local message to ")]
    assert sent and len(logged) >= sent  # the clock did deliver, to the log
    assert local.sent == []  # and kept none of it


def test_only_a_local_sender_built_to_keep_remembers() -> None:
    """`keep` (the default: tests read `sent`) records; the clock's sender does not."""
    keeping, clock = LocalSender(), LocalSender(keep=False)
    for sender in (keeping, clock):
        sender.send("tanaka", Reply("今日の予定です"))
    assert keeping.sent == [("tanaka", Reply("今日の予定です"))]
    assert clock.sent == []
