"""LINE webhook: real signatures, the real MessagingApi client, a stub LINE API on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from bot.app import create_app
from config import Settings
from config.demo import DEMO_FILE, render_demo
from storage.agreement_file import AgreementFile, parse_agreement_file
from storage.db import transaction
from storage.identities import create_invite
from storage.importer import import_agreements
from storage.models import Activity, ChatIdentity, Contact, ProcessedEvent
from tests.conftest import NOW, TODAY, TOKYO
from tests.support import (
    LINE_TOKEN,
    Clock,
    line_body,
    line_signature,
    line_text_event,
    link_account,
    post_line,
)

SENT = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}

# LINE's documented signature vector (empty events, as the console's "Verify" button sends).
VECTOR_BODY = '{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}'
VECTOR_SIGNATURE = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="


def demo_data() -> AgreementFile:
    return parse_agreement_file(render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY))


def link_line(app: Flask, contact_key: str, user_id: str) -> None:
    link_account(app, "line", contact_key, user_id)


def count(app: Flask, model: type) -> int:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def replies(line_api: HTTPServer) -> list[dict]:
    return [
        json.loads(req.get_data()) for req, _ in line_api.log if req.path == "/v2/bot/message/reply"
    ]


def expect_reply(line_api: HTTPServer) -> None:
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(SENT)


def test_documented_vector_with_empty_events_is_accepted(app: Flask) -> None:
    res = post_line(app.test_client(), VECTOR_BODY, VECTOR_SIGNATURE)
    assert res.status_code == 200


def test_missing_or_wrong_signature_is_refused_and_stores_nothing(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_line(demo, "tanaka", "Utanaka")
    body = line_body(
        line_text_event("活動 11/20 防災訓練 参加者45名", user_id="Utanaka", event_id="E1")
    )
    client = demo.test_client()
    missing = client.post("/line/webhook", data=body, headers={"Content-Type": "application/json"})
    wrong = post_line(client, body, signature=VECTOR_SIGNATURE)
    assert (missing.status_code, wrong.status_code) == (400, 400)
    assert count(demo, Activity) == 0
    assert count(demo, ProcessedEvent) == 0
    assert line_api.log == []


def test_text_from_linked_contact_gets_exactly_one_reply_even_when_redelivered(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_line(demo, "tanaka", "Utanaka")
    expect_reply(line_api)
    body = line_body(
        line_text_event("予定", user_id="Utanaka", event_id="01HEVENT", reply_token="tok-123")
    )
    client = demo.test_client()

    first = post_line(client, body)
    again = post_line(client, body)  # LINE's redelivery: same webhookEventId

    assert (first.status_code, again.status_code) == (200, 200)
    sent = replies(line_api)
    assert len(sent) == 1
    request, _ = line_api.log[0]
    assert request.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
    assert sent[0]["replyToken"] == "tok-123"
    text = sent[0]["messages"][0]["text"]
    assert "今後30日の予定・期限" in text and "協定書改定案の送付" in text
    assert "さくら町" not in text  # tanaka's agreements only


def test_logging_an_activity_is_applied_once(demo: Flask, line_api: HTTPServer) -> None:
    link_line(demo, "tanaka", "Utanaka")
    expect_reply(line_api)
    body = line_body(
        line_text_event("活動 11/20 防災訓練 参加者45名", user_id="Utanaka", event_id="E-log")
    )
    client = demo.test_client()
    post_line(client, body)
    post_line(client, body)
    assert count(demo, Activity) == 1
    assert "活動を記録しました" in replies(line_api)[0]["messages"][0]["text"]


def test_unknown_sender_is_asked_to_register_and_nothing_is_stored(
    demo: Flask, line_api: HTTPServer
) -> None:
    expect_reply(line_api)
    body = line_body(line_text_event("活動 11/20 防災訓練", user_id="Ustranger", event_id="E-s"))
    post_line(demo.test_client(), body)
    text = replies(line_api)[0]["messages"][0]["text"]
    assert "登録" in text and "登録 ABC123" in text
    assert count(demo, Activity) == 0
    assert count(demo, ChatIdentity) == 0


def test_invite_code_links_a_line_account_once(demo: Flask, line_api: HTTPServer) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        code = create_invite(
            s, s.scalar(select(Contact).where(Contact.key == "suzuki")), now=r.clock()
        ).code
    expect_reply(line_api)
    client = demo.test_client()
    post_line(client, line_body(line_text_event(f"登録 {code}", user_id="Usuzuki", event_id="L1")))
    post_line(client, line_body(line_text_event(f"登録 {code}", user_id="Uother", event_id="L2")))
    texts = [m["messages"][0]["text"] for m in replies(line_api)]
    assert "鈴木 一郎さん、登録しました" in texts[0]
    assert "期限切れ・使用済み" in texts[1]
    with r.sessions() as s:
        linked = s.scalars(select(ChatIdentity.external_id)).all()
    assert linked == ["Usuzuki"]


def test_group_chatter_is_ignored_but_a_mention_is_answered(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_line(demo, "tanaka", "Utanaka")
    expect_reply(line_api)
    client = demo.test_client()
    chatter = line_text_event("お疲れさまです", user_id="Utanaka", event_id="G1", group_id="Cgroup")
    mention = line_text_event(
        "@Renkei 予定", user_id="Utanaka", event_id="G2", group_id="Cgroup", mention_self=True
    )
    post_line(client, line_body(chatter))
    assert replies(line_api) == []
    line_api.expect_request("/v2/bot/message/push", method="POST").respond_with_json(SENT)
    post_line(client, line_body(mention))
    # The due list is the person's own: pushed to them 1:1, a one-line note in the group.
    assert "1対1のトーク" in replies(line_api)[0]["messages"][0]["text"]
    [push] = [json.loads(q.get_data()) for q, _ in line_api.log if q.path.endswith("/push")]
    assert push["to"] == "Utanaka" and "今後30日の予定・期限" in push["messages"][0]["text"]


def test_postback_from_a_button_is_handled_like_typed_text(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_line(demo, "sato", "Usato")
    expect_reply(line_api)
    client = demo.test_client()
    post_line(
        client,
        line_body(
            line_text_event("活動 11/20 清掃活動 参加者30名", user_id="Usato", event_id="P1")
        ),
    )
    asked = replies(line_api)[0]["messages"][0]
    choices = [item["action"]["data"] for item in asked["quickReply"]["items"]]
    assert len(choices) == 2 and all("協定:" in c for c in choices)
    postback = {
        "type": "postback",
        "mode": "active",
        "timestamp": 1,
        "webhookEventId": "P2",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": "rt-2",
        "source": {"type": "user", "userId": "Usato"},
        "postback": {"data": choices[1]},
    }
    post_line(client, line_body(postback))
    assert "活動を記録しました" in replies(line_api)[1]["messages"][0]["text"]
    assert count(demo, Activity) == 1


def test_signed_bodies_of_the_wrong_shape_never_give_500(app: Flask) -> None:
    client = app.test_client()
    for body in [
        "not json",
        "[]",
        '{"events": 5}',
        '{"events": [{"type": 3}]}',
        '{"destination": "x"}',
        '{"events": [{"type": "message", "source": null}]}',
    ]:
        res = post_line(client, body)
        assert res.status_code in (200, 400), (body, res.status_code)


def test_unknown_event_types_are_acknowledged(app: Flask, line_api: HTTPServer) -> None:
    event = {
        "type": "somethingNew",
        "mode": "active",
        "timestamp": 1,
        "webhookEventId": "U1",
        "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": "U1"},
    }
    res = post_line(app.test_client(), line_body(event))
    assert res.status_code == 200
    assert line_api.log == []


def test_a_body_over_one_megabyte_is_refused(app: Flask) -> None:
    body = line_body(line_text_event("x" * (1024 * 1024), user_id="U", event_id="big"))
    res = post_line(app.test_client(), body)
    assert res.status_code == 413


def test_the_webhook_answers_200_before_the_reply_goes_out(
    settings: Settings, line_api: HTTPServer, clock: Clock
) -> None:
    # The production path: a real thread pool sends replies once the event is committed, so
    # LINE's API being slow (here: held until released) keeps no web worker waiting.
    released, reached = threading.Event(), threading.Event()

    def slow_reply(request: Request) -> Response:
        reached.set()
        released.wait(timeout=10)
        return Response(json.dumps(SENT), content_type="application/json")

    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_handler(slow_reply)
    pool = ThreadPoolExecutor(max_workers=2)
    app = create_app(settings, clock=clock, line_executor=pool)
    try:
        with transaction(app.extensions["renkei"].sessions) as s:
            import_agreements(s, demo_data(), tz=TOKYO, now=NOW)
        link_line(app, "tanaka", "Utanaka")
        body = line_body(
            line_text_event("活動 今日 防災訓練 参加者45名", user_id="Utanaka", event_id="ev-async")
        )
        res = app.test_client().post(
            "/line/webhook",
            data=body.encode(),
            headers={"Content-Type": "application/json", "X-Line-Signature": line_signature(body)},
        )
        assert res.status_code == 200
        assert count(app, Activity) == 1  # applied and committed before the 200
        assert reached.wait(timeout=10) and replies(line_api) == []  # the reply: still held
        released.set()
        pool.shutdown(wait=True)
        [reply] = replies(line_api)
        assert "防災訓練" in reply["messages"][0]["text"]
    finally:
        released.set()
        pool.shutdown(wait=True)
        app.extensions["renkei"].engine.dispose()
