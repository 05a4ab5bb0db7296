"""LINE events in the SDK's own payload shapes (tests/fixtures/line/, from line-bot-sdk-python),
each signed and posted twice through the Flask app, answered through the real MessagingApi
client against the stub LINE API; the database says what was applied."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from linebot.v3.webhooks import Event
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from bot.line import _said, to_incoming
from bot.scheduler import plan
from handlers.chat_events import EDIT_NOT_APPLIED, NOT_TEXT, WELCOME_BACK
from handlers.privacy import PRIVATE_NOTE
from storage.models import Agreement, ChatIdentity, Outbox, ProcessedEvent
from tests.conftest import TOKYO
from tests.support import line_body, line_text_event, link_account, post_line

FIXTURES = Path(__file__).parent / "fixtures" / "line"
SDK_USER = "U206d25c2ea6bd87c17655609a1c37cb8"  # the user of the SDK's fixtures
SDK_GROUP = "Ca56f94637cc4347f90a25382909b24b9"
SENT = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}
MONDAY = datetime(2026, 11, 30, 9, tzinfo=TOKYO)
NOT_UNDERSTOOD = "わかりませんでした"
ANSWERED = "「予定」"  # what is not a command gets an example of one


def sdk_events(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["events"]


def sdk_event(kind: str, *, message: str | None = None, source: str = "user") -> dict[str, Any]:
    """The first event of the SDK's v3 fixture of that type (and message type, source type)."""
    for event in sdk_events("sdk_v3_webhook.json"):
        if (
            event["type"] == kind
            and (message is None or event["message"]["type"] == message)
            and event["source"]["type"] == source
        ):
            return copy.deepcopy(event)
    raise LookupError(kind)


def ided(event: dict[str, Any], n: int | str) -> dict[str, Any]:
    """The fixture's events all share one webhookEventId; LINE gives each its own."""
    event = copy.deepcopy(event)
    event["webhookEventId"] = f"ev-{n}"
    if "replyToken" in event:
        event["replyToken"] = f"rt-{n}"
    return event


def stub(line_api: HTTPServer) -> None:
    for path in ("/v2/bot/message/reply", "/v2/bot/message/push"):
        line_api.expect_request(path, method="POST").respond_with_json(SENT)


def sent(line_api: HTTPServer, kind: str) -> list[dict[str, Any]]:
    return [
        json.loads(req.get_data())
        for req, _ in line_api.log
        if req.path == f"/v2/bot/message/{kind}"
    ]


def texts(line_api: HTTPServer, kind: str = "reply") -> list[str]:
    return ["\n".join(m.get("text", "") for m in r["messages"]) for r in sent(line_api, kind)]


def post_twice(app: Flask, event: dict[str, Any]) -> tuple[int, int]:
    client = app.test_client()
    body = line_body(event)
    return post_line(client, body).status_code, post_line(client, body).status_code


def count(app: Flask, model: type) -> int:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def identity(app: Flask, external_id: str) -> ChatIdentity:
    with app.extensions["renkei"].sessions() as s:
        found = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == external_id))
        assert found is not None
        return found


def groups(app: Flask) -> dict[str, str | None]:
    with app.extensions["renkei"].sessions() as s:
        return {k: g for k, g in s.execute(select(Agreement.key, Agreement.line_group))}


# What each event of the SDK's fixtures gets, by index (None: no answer), with the fixtures'
# user linked to tanaka. v3 cannot model ten of the older v2 shapes: those are skipped.
V3_ANSWERS: dict[int, str] = {
    0: ANSWERED,  # "Hello, world" in 1:1: greeted, with an example
    2: NOT_TEXT.text,  # video
    3: NOT_TEXT.text,  # audio
    4: NOT_TEXT.text,  # location
    5: NOT_TEXT.text,  # sticker
    6: "Renkei の使い方",  # follow: help
    8: "このグループを協定に登録",  # join: the introduction
    10: NOT_UNDERSTOOD,  # a postback that is not ours
    16: NOT_UNDERSTOOD,
    17: NOT_UNDERSTOOD,
    18: NOT_UNDERSTOOD,
    21: NOT_TEXT.text,  # file
    24: NOT_TEXT.text,  # image
    25: ANSWERED,
    26: EDIT_NOT_APPLIED.text,  # messageEdited
}
V2_MODELLED = {3, 4, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23}
# Text messages and postbacks are read from the JSON without the SDK's models (bot/line.py
# `_said`): the v2 text messages, which lack v3's quoteToken, are answered too.
V2_ANSWERED = V2_MODELLED | {0, 25}


@pytest.mark.parametrize("fixture", ["sdk_v3_webhook.json", "sdk_v2_webhook.json"])
def test_every_sdk_event_is_acknowledged_and_applied_once(
    demo: Flask, line_api: HTTPServer, fixture: str
) -> None:
    link_account(demo, "line", "tanaka", SDK_USER)
    stub(line_api)
    events = sdk_events(fixture)
    answers = (
        V3_ANSWERS
        if fixture.startswith("sdk_v3")
        else {i: a for i, a in V3_ANSWERS.items() if i in V2_ANSWERED}
    )
    for i, event in enumerate(events):
        before = len(line_api.log)
        assert post_twice(demo, ided(event, i)) == (200, 200), (i, event["type"])
        got = texts(line_api)[-1:] if len(line_api.log) > before else []
        assert len(line_api.log) - before == (1 if i in answers else 0), (i, event["type"])
        if i in answers:
            assert answers[i] in got[0], (i, got)
    assert sent(line_api, "push") == []  # nothing private was asked in a group
    assert identity(demo, SDK_USER).blocked_at is not None  # the unfollow (7) in both shapes


def test_an_event_the_sdk_cannot_model_does_not_cost_the_others_their_answer(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    stub(line_api)
    text = ided(sdk_events("sdk_v3_webhook.json")[0], "broken")
    broken = {**text, "message": {**text["message"], "mention": {"mentionees": "nope"}}}
    unknown = ided(sdk_events("sdk_v3_webhook.json")[27], "undefined")
    due = line_text_event("予定", user_id="Utanaka", event_id="ev-due", reply_token="rt-due")
    res = post_line(demo.test_client(), line_body(broken, unknown, due))
    assert res.status_code == 200
    [answer] = texts(line_api)
    assert "今後30日の予定・期限" in answer
    assert count(demo, ProcessedEvent) == 1  # only the event that was applied


def test_signed_bodies_without_events_are_acknowledged(app: Flask, line_api: HTTPServer) -> None:
    client = app.test_client()
    for body in ["not json", "[]", '{"events": 5}', '{"events": [3, null, "x"]}', "{}"]:
        assert post_line(client, body).status_code == 200, body
    assert line_api.log == []


def test_joining_a_group_introduces_the_bot_and_member_joins_stay_quiet(
    demo: Flask, line_api: HTTPServer
) -> None:
    stub(line_api)
    assert post_twice(demo, ided(sdk_event("join", source="group"), "join")) == (200, 200)
    [intro] = texts(line_api)
    assert "このグループを協定に登録" in intro and f"グループID：{SDK_GROUP}" in intro
    post_twice(demo, ided(sdk_event("memberJoined", source="group"), "mj"))
    post_twice(demo, ided(sdk_event("memberLeft", source="group"), "ml"))
    assert len(texts(line_api)) == 1


def test_a_contact_ties_the_group_to_their_agreement_and_digests_go_there(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    stub(line_api)
    event = line_text_event(
        "このグループを協定に登録", user_id="Utanaka", event_id="tie", group_id="Cminato"
    )
    assert post_twice(demo, event) == (200, 200)
    [answer] = texts(line_api)
    assert (
        "「みなと市と株式会社アクメ」に登録しました" in answer and "line_group: Cminato" in answer
    )
    assert groups(demo)["minato-acme"] == "Cminato"
    plan(demo.extensions["renkei"].sessions, now=MONDAY, tz=TOKYO)
    with demo.extensions["renkei"].sessions() as s:
        digest = s.scalar(select(Outbox).where(Outbox.recipient == "line:Cminato"))
    assert digest is not None and digest.kind == "digest" and digest.address == "Cminato"


def test_with_several_agreements_the_bot_asks_which_one(demo: Flask, line_api: HTTPServer) -> None:
    link_account(demo, "line", "sato", "Usato")
    stub(line_api)
    client = demo.test_client()
    asked = line_text_event("グループ登録", user_id="Usato", event_id="q", group_id="Cacme")
    post_line(client, line_body(asked))
    [question] = sent(line_api, "reply")
    choices = [i["action"]["data"] for i in question["messages"][-1]["quickReply"]["items"]]
    assert len(choices) == 2 and groups(demo)["sakura-platform"] is None
    tap = {
        "type": "postback",
        "mode": "active",
        "timestamp": 1,
        "webhookEventId": "tap",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": "rt-tap",
        "source": {"type": "group", "groupId": "Cacme", "userId": "Usato"},
        "postback": {"data": next(c for c in choices if "sakura-platform" in c)},
    }
    post_line(client, line_body(tap))
    assert groups(demo)["sakura-platform"] == "Cacme"
    assert groups(demo)["minato-acme"] is None


def test_only_a_contact_of_the_agreement_can_tie_it_and_only_in_a_group(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "sato", "Usato")
    stub(line_api)
    client = demo.test_client()
    for event in (
        line_text_event(
            "このグループを協定に登録 協定:sakura-hikari",
            user_id="Usato",
            event_id="o",
            group_id="Cx",
        ),
        line_text_event(
            "このグループを協定に登録", user_id="Ustranger", event_id="s", group_id="Cx"
        ),
        line_text_event("このグループを協定に登録", user_id="Usato", event_id="dm"),
    ):
        post_line(client, line_body(event))
    assert set(groups(demo).values()) == {None}
    answers = texts(line_api)
    assert "あなたの担当ではありません" in answers[0]
    assert answers[1] == PRIVATE_NOTE  # the stranger is told how to register, 1:1
    [how_to_register] = sent(line_api, "push")
    assert how_to_register["to"] == "Ustranger" and "登録" in how_to_register["messages"][0]["text"]
    assert "グループ" in answers[2] and "送ってください" in answers[2]


def test_leaving_the_group_unties_it(demo: Flask, line_api: HTTPServer) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    stub(line_api)
    tie = line_text_event(
        "このグループを協定に登録", user_id="Utanaka", event_id="t", group_id=SDK_GROUP
    )
    post_line(demo.test_client(), line_body(tie))
    assert groups(demo)["minato-acme"] == SDK_GROUP
    assert post_twice(demo, ided(sdk_event("leave", source="group"), "leave")) == (200, 200)
    assert groups(demo)["minato-acme"] is None


def test_unfollow_stops_pushes_and_the_primary_is_told_follow_resumes(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    link_account(demo, "line", "suzuki", "Usuzuki")
    stub(line_api)
    sessions = demo.extensions["renkei"].sessions
    unfollow = sdk_event("unfollow")
    unfollow["source"]["userId"] = "Usuzuki"
    assert post_twice(demo, ided(unfollow, "unfollow")) == (200, 200)
    assert identity(demo, "Usuzuki").blocked_at is not None
    plan(sessions, now=MONDAY, tz=TOKYO)
    with sessions() as s:
        rows = {r.recipient: r for r in s.scalars(select(Outbox).where(Outbox.kind == "digest"))}
    assert (rows["suzuki"].platform, rows["suzuki"].address) == ("local", "suzuki")
    assert (rows["tanaka"].platform, rows["tanaka"].address) == ("line", "Utanaka")
    told = rows["tanaka"].payload["text"]
    assert "鈴木 一郎（みなと市と株式会社アクメ）：LINE でボットがブロックされています" in told

    # A digest already waiting for an account that is then blocked goes to the local log.
    unfollow["source"]["userId"] = "Utanaka"
    post_twice(demo, ided(unfollow, "unfollow-tanaka"))
    with sessions() as s:
        waiting = s.scalar(select(Outbox).where(Outbox.recipient == "tanaka"))
        assert waiting is not None and (waiting.platform, waiting.address) == ("local", "tanaka")

    follow = sdk_event("follow")
    follow["source"]["userId"] = "Usuzuki"
    assert post_twice(demo, ided(follow, "follow")) == (200, 200)
    assert identity(demo, "Usuzuki").blocked_at is None
    assert texts(line_api) == [WELCOME_BACK.text]


def test_pictures_get_one_line_in_1to1_and_silence_in_groups(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    stub(line_api)
    image = sdk_event("message", message="image")
    image["source"]["userId"] = "Utanaka"
    sticker_in_group = sdk_event("message", message="text", source="group")
    sticker_in_group["message"] = sdk_event("message", message="sticker")["message"]
    assert post_twice(demo, ided(image, "img")) == (200, 200)
    assert post_twice(demo, ided(sticker_in_group, "stk")) == (200, 200)
    assert texts(line_api) == [NOT_TEXT.text]
    assert len(NOT_TEXT.text.split("。")) <= 3  # one line: what happened, what to do


def test_an_edited_command_in_a_group_is_said_to_change_nothing(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", SDK_USER)
    stub(line_api)
    edited = sdk_event("messageEdited")
    edited["source"] = {"type": "group", "groupId": SDK_GROUP, "userId": SDK_USER}
    chatter = ided(edited, "chat")
    command = ided(edited, "cmd")
    command["message"]["text"] = "活動 11/21 防災訓練 参加者50名"
    post_twice(demo, chatter)
    post_twice(demo, command)
    assert texts(line_api) == [EDIT_NOT_APPLIED.text]


def test_text_and_postbacks_read_without_the_sdk_are_what_the_sdk_reads() -> None:
    """bot/line.py reads the events people send all day from the JSON; for every such event of
    the SDK's own fixtures it must say what the SDK's model says (and leave mentions to it)."""
    checked = 0
    for name in ("sdk_v3_webhook.json", "sdk_v2_webhook.json"):
        for i, raw in enumerate(sdk_events(name)):
            said = _said(ided(raw, i))
            try:
                event = Event.from_dict(ided(raw, i))
            except Exception:
                event = None
            modelled = to_incoming(event) if event is not None else None
            if said is None:
                assert raw["type"] not in ("message", "postback") or (
                    raw["type"] == "message"
                    and (raw["message"]["type"] != "text" or "mention" in raw["message"])
                ), (name, i)
                continue
            checked += 1
            assert said[0] == f"ev-{i}" and said[2] == f"rt-{i}"
            if modelled is not None:
                assert said[1] == modelled, (name, i)
    assert checked >= 8


@given(
    raw=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "type",
                        "webhookEventId",
                        "replyToken",
                        "source",
                        "userId",
                        "groupId",
                        "roomId",
                        "message",
                        "text",
                        "postback",
                        "data",
                        "mention",
                    ]
                ),
                inner,
                max_size=6,
            )
        ),
        max_leaves=20,
    )
)
@settings(max_examples=300, deadline=None, derandomize=True)
def test_reading_an_event_without_the_sdk_never_raises_and_checks_every_string(raw: Any) -> None:
    said = _said(raw)
    if said is not None:
        event_id, incoming, token = said
        assert all(isinstance(v, str) for v in (event_id, token, incoming.user_id, incoming.text))
        assert incoming.chat_id is None or isinstance(incoming.chat_id, str)
