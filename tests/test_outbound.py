"""Senders and renderers: what LINE and Slack actually receive."""

from __future__ import annotations

import json

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from bot.clock import build_scheduler, heartbeat
from bot.line import line_api as make_line_api
from bot.render_line import (
    TEXT_LIMIT,
    line_messages,
    message_count,
    split_text,
    to_line_messages,
)
from bot.render_slack import to_slack_message
from bot.senders import LineSender, LocalSender, SlackSender
from bot.slack import slack_client
from handlers.messages import Button, Card, Reply
from tests.support import LINE_TOKEN, SLACK_TOKEN

REMINDER = Reply(
    "明日は実務者会議です",
    items=("12/10（木） 14:00 第8回 実務者会議",),
    buttons=(Button("完了", "完了 3"),),
)


def test_line_push_carries_the_retry_key_and_token(line_api: HTTPServer) -> None:
    line_api.expect_request("/v2/bot/message/push", method="POST").respond_with_json(
        {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}
    )
    sender = LineSender(make_line_api(line_api.url_for("").rstrip("/"), LINE_TOKEN))
    sender.send("Utanaka", REMINDER, retry_key="123e4567-e89b-12d3-a456-426614174000")
    [(request, _)] = line_api.log
    assert request.headers["X-Line-Retry-Key"] == "123e4567-e89b-12d3-a456-426614174000"
    assert request.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
    body = json.loads(request.get_data())
    assert body["to"] == "Utanaka"
    assert body["messages"][0]["text"].startswith("明日は実務者会議です\n・12/10（木）")
    assert body["messages"][0]["quickReply"]["items"][0]["action"]["data"] == "完了 3"


def test_slack_post_goes_to_the_channel_with_blocks(slack_api: HTTPServer) -> None:
    slack_api.expect_request("/api/chat.postMessage").respond_with_json({"ok": True})
    SlackSender(slack_client(slack_api.url_for("/api/"), SLACK_TOKEN)).send("C0123", REMINDER)
    [(request, _)] = [entry for entry in slack_api.log if entry[0].path == "/api/chat.postMessage"]
    assert request.headers["Authorization"] == f"Bearer {SLACK_TOKEN}"
    body = request.get_data(as_text=True)
    assert "C0123" in body and "actions" in body


def test_local_sender_keeps_and_logs() -> None:
    sender = LocalSender()
    sender.send("tanaka", REMINDER)
    assert sender.sent == [("tanaka", REMINDER)]


def test_long_text_is_split_under_the_line_limit_at_line_breaks() -> None:
    text = "\n".join(f"{i:04d} " + "あ" * 95 for i in range(120))  # about 12,000 characters
    chunks = split_text(text, TEXT_LIMIT)
    assert all(len(c) <= TEXT_LIMIT for c in chunks)
    assert "\n".join(chunks) == text
    huge = split_text("x" * 12000, TEXT_LIMIT)
    assert [len(c) for c in huge] == [5000, 5000, 2000]


def test_line_quick_replies_are_capped_at_thirteen() -> None:
    reply = Reply(
        "選んでください",
        buttons=tuple(Button(f"協定{i}" * 5, f"活動 協定:k{i}") for i in range(20)),
    )
    [message] = to_line_messages(reply)
    items = message.quick_reply.items
    assert len(items) == 13 and all(len(i.action.label) <= 20 for i in items)


def test_slack_blocks_have_a_button_per_choice() -> None:
    payload = to_slack_message(
        Reply("どれ？", buttons=(Button("A", "活動 協定:a"), Button("B", "活動 協定:b")))
    )
    [actions] = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [e["value"] for e in actions["elements"]] == ["活動 協定:a", "活動 協定:b"]


def test_the_clock_has_one_heartbeat_job_and_it_checks_the_database(app: Flask) -> None:
    engine = app.extensions["renkei"].engine
    scheduler = build_scheduler(engine, timezone="Asia/Tokyo")
    [job] = scheduler.get_jobs()
    assert (job.id, job.coalesce, job.max_instances) == ("heartbeat", True, 1)
    assert heartbeat(engine) is True


@given(
    text=st.text(max_size=12_000),
    items=st.lists(st.text(max_size=3_000), max_size=6),
    cards=st.integers(min_value=0, max_value=15),
)
@settings(max_examples=60, deadline=None, derandomize=True)
def test_the_message_count_the_deliverer_packs_by_is_what_is_sent(
    text: str, items: list[str], cards: int
) -> None:
    reply = Reply(
        text,
        items=tuple(items),
        cards=tuple(Card(f"協定{i}", (("先週の活動", "記録なし"),)) for i in range(cards)),
    )
    assert message_count(reply) == len(to_line_messages(reply))


@given(
    text=st.text(max_size=6_000),
    items=st.lists(st.text(max_size=400), max_size=4),
    buttons=st.lists(st.tuples(st.text(max_size=30), st.text(max_size=400)), max_size=15),
    cards=st.integers(min_value=0, max_value=3),
)
@settings(max_examples=60, deadline=None, derandomize=True)
def test_replies_send_the_json_the_sdk_models_would(
    text: str, items: list[str], buttons: list[tuple[str, str]], cards: int
) -> None:
    """Replies post `line_messages` as plain JSON; pushes go through the SDK's models of them.
    Both must be the same messages (and valid for the SDK, which raises otherwise)."""
    reply = Reply(
        text,
        items=tuple(items),
        buttons=tuple(Button(label, said) for label, said in buttons),
        cards=tuple(Card(f"協定{i}", (("先週の活動", "記録なし"),)) for i in range(cards)),
    )
    assert [m.to_dict() for m in to_line_messages(reply)] == line_messages(reply)
