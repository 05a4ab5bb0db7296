"""Delivery through faults: every due notification is shown exactly once, none is lost.

"Shown" is counted at the stubs: a LINE push counts once per retry key (LINE itself answers a
repeated key with 409), a Slack message once per chat.postMessage. Real SDK clients; the
clock is injected, so backoff waits are moves of `now`, never sleeps.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from bot.cli_scheduler import coalescing
from bot.scheduler import DeliveryStats, deliver, plan
from reminders.planner import plan_notifications
from storage.db import transaction
from storage.models import ActionItem, Outbox
from storage.outbox import CLAIM_LEASE, MAX_ATTEMPTS
from tests.conftest import TODAY, TOKYO

if TYPE_CHECKING:
    from tests.scheduler_support import Platforms

pytest_plugins = ("tests.scheduler_support",)

# Monday 12/14: digests for everyone, the draft overdue (sato, copy to tanaka), the report's
# last note (suzuki, local): LINE, Slack, a Slack channel, a LINE group and the local log.
MONDAY = datetime(2026, 12, 14, 9, 0, tzinfo=TOKYO)


@pytest.fixture
def minato(app: Flask, platforms: Platforms) -> Flask:
    platforms.load_minato(app, today=TODAY)
    assert plan(app.extensions["renkei"].sessions, now=MONDAY, tz=TOKYO) > 0
    return app


def send(app: Flask, platforms: Platforms, now: datetime, senders: Any = None) -> DeliveryStats:
    return deliver(
        app.extensions["renkei"].sessions, senders or platforms.senders(), now=now, tz=TOKYO
    )


def rows(app: Flask) -> list[Outbox]:
    with app.extensions["renkei"].sessions() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def assert_each_shown_once(app: Flask, platforms: Platforms) -> None:
    """Every row is sent and was shown once to its address; nothing else was shown."""
    outbox = rows(app)
    assert outbox and all(r.status == "sent" for r in outbox), [
        (r.id, r.status, r.error) for r in outbox if r.status != "sent"
    ]
    wanted = Counter((r.address, r.subject) for r in outbox)
    assert platforms.counts() == wanted


def test_one_push_per_recipient_with_everything_due(minato: Flask, platforms: Platforms) -> None:
    stats = send(minato, platforms, MONDAY)
    assert stats.sent == len(rows(minato)) and stats.pushes < stats.sent
    [push] = [p for p in platforms.line.accepted.values() if p["to"] == "Utanaka"]
    assert len(push["messages"]) <= 5
    kinds = [m["type"] for m in push["messages"]]
    # reminder cards only: the agreement's digest reaches tanaka in its LINE group (attention
    # budget: not again in a personal digest), which carries the digest and its chart
    assert kinds[0] == "flex" and "image" not in kinds
    [group] = [p for p in platforms.line.accepted.values() if p["to"] == "Cminatogroup"]
    image = next(m for m in group["messages"] if m["type"] == "image")
    assert image["originalContentUrl"].startswith("https://renkei.example.jp/charts/")
    sato = [p for p in platforms.slack.posted if p["channel"] == "Usato"]
    # one message to sato (his digest now comes in the agreement's channel, so this Monday
    # he has a single reminder; the coalescing shows in tanaka's push and `stats.pushes`)
    assert len(sato) == 1 and len(platforms.slack.shown()) == len(platforms.slack.posted)
    # Slack's chart (in the channel's digest) points at the same page as LINE's: the clock
    # uploads and draws nothing
    channel = [p for p in platforms.slack.posted if p["channel"] == "C0MINATO"]
    assert any(
        b["type"] == "image" and b["image_url"].startswith("https://renkei.example.jp/charts/")
        for p in channel
        for b in p["blocks"]
    )
    assert platforms.slack.files == {}
    assert_each_shown_once(minato, platforms)
    assert send(minato, platforms, MONDAY + timedelta(minutes=1)).claimed == 0


def test_429_waits_for_retry_after(minato: Flask, platforms: Platforms) -> None:
    platforms.line.fail_next(status=429, retry_after=120, times=2)
    platforms.slack.fail_next(status=429, retry_after=90)
    first = send(minato, platforms, MONDAY)
    assert first.retried > 0 and first.failed == 0
    assert send(minato, platforms, MONDAY + timedelta(seconds=89)).claimed == 0  # not yet
    assert send(minato, platforms, MONDAY + timedelta(seconds=91)).sent > 0  # Slack is due
    assert send(minato, platforms, MONDAY + timedelta(seconds=121)).sent > 0  # LINE is due
    assert_each_shown_once(minato, platforms)
    # the same retry key on every attempt of a push
    tanaka = [
        k for k in platforms.line.keys if platforms.line.accepted.get(k, {}).get("to") == "Utanaka"
    ]
    assert len(tanaka) >= 2 and len(set(tanaka)) == 1


def test_5xx_backs_off_exponentially(minato: Flask, platforms: Platforms) -> None:
    platforms.line.fail_next(status=500, times=4)
    platforms.slack.fail_next(status=503, times=3)
    now, waits = MONDAY, []
    for _ in range(12):
        stats = send(minato, platforms, now)
        if all(r.status == "sent" for r in rows(minato)):
            break
        pending = [r.next_attempt_at for r in rows(minato) if r.status == "pending"]
        waits.append(min(pending) - now)
        now = min(pending)
    assert stats.failed == 0
    assert waits[:2] == [timedelta(seconds=30), timedelta(seconds=60)]
    assert_each_shown_once(minato, platforms)


def test_a_lost_answer_is_not_shown_twice(minato: Flask, platforms: Platforms) -> None:
    # The platforms take the first push and message, but answer after the client timed out.
    platforms.line.fail_next(hang=True)
    platforms.slack.fail_next(hang=True)
    first = send(minato, platforms, MONDAY)
    assert first.retried >= 2
    later = send(minato, platforms, MONDAY + timedelta(minutes=1))
    assert later.sent == first.retried
    assert platforms.line.conflicts == 1  # LINE: the same key again, answered 409
    assert_each_shown_once(minato, platforms)  # Slack: found in the history, not re-posted


class Killed(BaseException):
    """The process dies: not an error the deliverer could catch and record."""


class DiesAfterSending:
    def __init__(self, sender: Any) -> None:
        self.sender = sender

    def send(self, *args: Any, **kw: Any) -> None:
        self.sender.send(*args, **kw)
        raise Killed

    def send_many(self, *args: Any, **kw: Any) -> None:
        self.sender.send_many(*args, **kw)
        raise Killed

    def already_sent(self, *args: Any, **kw: Any) -> bool:
        return bool(self.sender.already_sent(*args, **kw))


@pytest.mark.parametrize("platform", ["line", "slack"])
def test_stopped_between_send_and_mark(minato: Flask, platforms: Platforms, platform: str) -> None:
    senders = platforms.senders()
    senders[platform] = DiesAfterSending(senders[platform])
    with pytest.raises(Killed):
        send(minato, platforms, MONDAY, senders)
    assert any(r.status == "sending" for r in rows(minato))
    # another deliverer soon after leaves the claim alone; after the lease it takes over
    soon = send(minato, platforms, MONDAY + timedelta(minutes=1))
    assert all(r.status != "pending" for r in rows(minato)) and soon.sent < len(rows(minato))
    send(minato, platforms, MONDAY + CLAIM_LEASE + timedelta(seconds=1))
    assert_each_shown_once(minato, platforms)


def test_gives_up_after_a_bound_and_the_operator_retries(
    minato: Flask, platforms: Platforms
) -> None:
    platforms.line.fail_next(status=500, times=MAX_ATTEMPTS * 2)
    now = MONDAY
    for _ in range(MAX_ATTEMPTS + 2):  # hourly from 09:00 to 18:00
        send(minato, platforms, now)
        now += timedelta(hours=1)
    failed = [r for r in rows(minato) if r.status == "failed"]
    assert failed and all(r.platform == "line" for r in failed)
    assert all(f"gave up after {MAX_ATTEMPTS} attempts" in (r.error or "") for r in failed)
    runner = minato.test_cli_runner()
    listed = runner.invoke(args=["outbox", "list", "--failed"])
    assert str(failed[0].id) in listed.output and "LINE 500" in listed.output
    platforms.line.faults.clear()
    for row in failed:
        result = runner.invoke(args=["outbox", "retry", str(row.id)])
        assert result.exit_code == 0 or "not a failed row" in result.output  # same push
    assert send(minato, platforms, now).claimed == 0  # 19:00: it waits for the morning
    send(minato, platforms, MONDAY + timedelta(days=1))
    assert_each_shown_once(minato, platforms)
    assert runner.invoke(args=["outbox", "retry", "999999"]).exit_code != 0


def test_a_refused_push_fails_at_once_with_the_error(minato: Flask, platforms: Platforms) -> None:
    platforms.line.fail_next(status=400, times=5)
    stats = send(minato, platforms, MONDAY)
    assert stats.failed > 0 and stats.retried == 0
    assert {r.error for r in rows(minato) if r.status == "failed"} == {
        'LINE 400 BAD REQUEST: {"message": "stub says no"}'
    }


def test_deliverers_share_the_work(minato: Flask, platforms: Platforms) -> None:
    results: list[DeliveryStats] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        results.append(send(minato, platforms, MONDAY))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.claimed for r in results) == len(rows(minato))
    assert_each_shown_once(minato, platforms)


def test_a_done_item_is_not_sent(minato: Flask, platforms: Platforms) -> None:
    with transaction(minato.extensions["renkei"].sessions) as s:
        s.scalar(
            select(ActionItem).where(ActionItem.title == "協定書改定案の送付")
        ).done_at = MONDAY
    stats = send(minato, platforms, MONDAY)
    assert stats.cancelled == 2  # sato's reminder and tanaka's copy
    shown = {subject for _to, subject in platforms.counts()}
    assert not [s for s in shown if "協定書改定案の送付" in s and s.startswith("【タスク")]


def test_coalescing_saves_line_messages_as_the_preview_says(
    demo: Flask, platforms: Platforms
) -> None:
    """Everyone on LINE, the clock running every morning of December: pushes at the stub
    against notifications, and the figure `renkei reminders preview --summary` gives."""
    everyone = ("tanaka", "suzuki", "takahashi", "watanabe", "sato", "ito", "yamamoto", "nakamura")
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        platforms.link(s, now=MONDAY, links={k: ("line", f"U{k}") for k in everyone})
    start, end = datetime(2026, 12, 1, tzinfo=TOKYO), datetime(2027, 1, 1, tzinfo=TOKYO)
    clock = platforms.worker(demo)
    with time_machine.travel(start - timedelta(days=8), tick=False) as t:
        day = start - timedelta(days=8)
        while day < end:
            t.move_to(day.replace(hour=9))
            clock.tick()
            day += timedelta(days=1)
    december = [p for p in platforms.line.accepted.values() if start <= p["at"] < end]
    with r.sessions() as s:
        planned = plan_notifications(s, now=start, tz=TOKYO, start=start, end=end)
    notifications, estimated = coalescing(planned)
    assert len(december) == estimated < notifications
    assert len([x for x in platforms.line.shown() if start <= x.at < end]) == notifications
