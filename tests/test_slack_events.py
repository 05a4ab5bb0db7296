"""Slack Events API through slack-bolt: real signatures, the real WebClient, a stub Web API."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from storage.models import Activity, ProcessedEvent
from tests.support import (
    SLACK_SECRET,
    SLACK_TOKEN,
    RecordingExecutor,
    link_account,
    post_slack,
    slack_event_body,
    tie_chat,
)

# Slack's documented signing example: correct signature, but from 2018, so now stale.
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_TIMESTAMP = "1531420618"
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def link_slack(app: Flask, contact_key: str, user_id: str) -> None:
    link_account(app, "slack", contact_key, user_id)


def posts(slack_api: HTTPServer) -> list[tuple[dict, dict]]:
    """(headers, form fields) of every chat.postMessage the stub received."""
    out = []
    for req, _ in slack_api.log:
        if req.path == "/api/chat.postMessage":
            raw = req.get_data(as_text=True)
            fields = (
                json.loads(raw)
                if req.mimetype == "application/json"
                else {k: v[0] for k, v in parse_qs(raw).items()}
            )
            out.append((dict(req.headers), fields))
    return out


def expect_post(slack_api: HTTPServer) -> None:
    slack_api.expect_request("/api/chat.postMessage", method="POST").respond_with_json(
        {"ok": True, "channel": "D1", "ts": "1.1"}
    )


def dm(text: str, user: str = "Usato") -> dict:
    return {
        "type": "message",
        "channel": "D1",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": "1700000000.000100",
    }


def count(app: Flask, model: type) -> int:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_the_documented_request_is_refused_as_stale(app: Flask) -> None:
    # Bolt checks the signature and the 5-minute window; this one is years old.
    assert DOC_SIGNATURE.startswith("v0=") and SLACK_SECRET == "8f742231b10e8888abcd99yyyzzz85a5"
    res = app.test_client().post(
        "/slack/events",
        data=DOC_BODY,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": DOC_TIMESTAMP,
            "X-Slack-Signature": DOC_SIGNATURE,
        },
    )
    assert res.status_code == 401


def test_url_verification_is_answered(app: Flask) -> None:
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    res = post_slack(app.test_client(), body)
    assert res.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in res.get_data(as_text=True)


def test_direct_message_is_answered_once_even_when_slack_retries(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "sato", "Usato")
    expect_post(slack_api)
    body = slack_event_body(dm("予定"), event_id="Ev01")
    client = demo.test_client()

    first = post_slack(client, body)
    executor.drain()
    retry = post_slack(
        client, body, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    executor.drain()

    assert (first.status_code, retry.status_code) == (200, 200)
    sent = posts(slack_api)
    assert len(sent) == 1
    headers, fields = sent[0]
    assert headers["Authorization"] == f"Bearer {SLACK_TOKEN}"
    assert fields["channel"] == "D1"
    assert "今後30日の予定・期限" in fields["text"]
    assert "協定書改定案の送付" in fields["text"]  # minato-acme, one of sato's agreements
    assert "総合評価シート" not in fields["text"]  # sakura-hikari is not sato's


def test_app_mention_in_a_channel_is_answered_in_its_thread(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "sato", "Usato")
    tie_chat(demo, "slack", "C1", "minato-acme", "sakura-platform")  # all of sato's: shown there
    expect_post(slack_api)
    event = {
        "type": "app_mention",
        "channel": "C1",
        "user": "Usato",
        "text": "<@UBOT> 履歴",
        "ts": "1700000001.000200",
    }
    post_slack(demo.test_client(), slack_event_body(event, event_id="Ev02"))
    executor.drain()
    [(_, fields)] = posts(slack_api)
    assert fields["channel"] == "C1"
    assert fields["thread_ts"] == "1700000001.000200"
    assert "まだ活動の記録がありません" in fields["text"]


def test_logging_over_slack_writes_once(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    body = slack_event_body(dm("活動 11/20 防災訓練 参加者45名", user="Utanaka"), event_id="Ev03")
    client = demo.test_client()
    post_slack(client, body)
    post_slack(client, body, extra={"X-Slack-Retry-Num": "2"})
    executor.drain()
    assert count(demo, Activity) == 1
    assert len(posts(slack_api)) == 1


def test_unsigned_or_forged_requests_change_nothing(demo: Flask, slack_api: HTTPServer) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    body = slack_event_body(dm("活動 11/20 防災訓練", user="Utanaka"), event_id="Ev04")
    client = demo.test_client()
    unsigned = client.post("/slack/events", data=body, headers={"Content-Type": "application/json"})
    forged = client.post(
        "/slack/events",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": "1700000000",
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )
    assert (unsigned.status_code, forged.status_code) == (401, 401)
    assert count(demo, Activity) == 0 and count(demo, ProcessedEvent) == 0
    assert posts(slack_api) == []


def test_unknown_events_and_channel_chatter_get_a_harmless_200(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    client = demo.test_client()
    reaction = {"type": "reaction_added", "user": "U1", "reaction": "tada", "item": {}}
    chatter = {
        "type": "message",
        "channel": "C1",
        "channel_type": "channel",
        "user": "U1",
        "text": "hi",
        "ts": "1.2",
    }
    for i, event in enumerate([reaction, chatter]):
        res = post_slack(client, slack_event_body(event, event_id=f"Ev1{i}"))
        assert res.status_code == 200
    executor.drain()
    assert posts(slack_api) == []


def test_signed_bodies_of_the_wrong_shape_never_give_500(app: Flask) -> None:
    client = app.test_client()
    for body, ctype in [
        ("not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("{}", "text/plain"),
        ("payload=%7B", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback", "event": 5}', "application/json"),
    ]:
        res = post_slack(client, body, content_type=ctype)
        assert res.status_code == 400, (body, res.status_code)
