"""The conversation through signed LINE and Slack webhooks, with the real SDK clients talking to
stub APIs: every command, in Japanese and in English, and the platform-specific surfaces
(Flex cards, quick replies, slash command, ephemeral answers, App Home)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from tests.support import (
    RecordingExecutor,
    line_body,
    line_text_event,
    post_line,
    post_slack,
    slack_event_body,
)
from tests.test_line_webhook import SENT, link_line, replies
from tests.test_slack_events import dm, expect_post, link_slack, posts

# (Japanese, English, a fragment of the answer)
COMMANDS = [
    ("活動 11/20 防災訓練 参加者45名", "log 11/20 disaster drill 45人", "活動を記録しました"),
    ("KPI 参加者数 120", "kpi 1 120", "を記録しました"),
    (
        "会議 12/18 15:00 臨時打合せ 市役所2F",
        "meeting 12/18 15:00 sync online",
        "会議を登録しました",
    ),
    ("タスク 12/5 資料送付 @佐藤", "task 12/5 send-draft @sato", "タスクを登録しました"),
    ("完了 1", "done 1", "を完了にしました"),
    ("予定", "what's due", "今後30日の予定・期限"),
    ("今週", "this week", "今週の予定・期限"),
    ("状況", "status", "協定の状況（1件）"),
    ("履歴", "history", "まだ活動の記録がありません"),
    ("引継ぎ", "handover", "引継ぎ資料"),
    ("取消", "undo", "取り消せる入力がありません"),
    ("ヘルプ", "help", "Renkei の使い方"),
]
IDS = [c[1].split()[0] for c in COMMANDS]


@pytest.mark.parametrize("language", [0, 1], ids=["ja", "en"])
@pytest.mark.parametrize(("ja", "en", "fragment"), COMMANDS, ids=IDS)
def test_every_command_over_line(
    demo: Flask, line_api: HTTPServer, language: int, ja: str, en: str, fragment: str
) -> None:
    link_line(demo, "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply").respond_with_json(SENT)
    text = (ja, en)[language]
    post_line(
        demo.test_client(),
        line_body(line_text_event(text, user_id="Utanaka", event_id="E1", reply_token="tok")),
    )
    [sent] = replies(line_api)
    assert sent["replyToken"] == "tok"
    assert fragment in sent["messages"][0]["text"]


@pytest.mark.parametrize("language", [0, 1], ids=["ja", "en"])
@pytest.mark.parametrize(("ja", "en", "fragment"), COMMANDS, ids=IDS)
def test_every_command_over_slack(
    demo: Flask,
    slack_api: HTTPServer,
    executor: RecordingExecutor,
    language: int,
    ja: str,
    en: str,
    fragment: str,
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    text = (ja, en)[language]
    post_slack(demo.test_client(), slack_event_body(dm(text, user="Utanaka"), event_id="Ev1"))
    executor.drain()
    [(_, fields)] = posts(slack_api)
    assert fragment in fields["text"]
    blocks = json.loads(fields["blocks"]) if isinstance(fields["blocks"], str) else fields["blocks"]
    assert fragment in json.dumps(blocks, ensure_ascii=False)


def test_status_is_a_flex_bubble_on_line(demo: Flask, line_api: HTTPServer) -> None:
    link_line(demo, "sato", "Usato")
    line_api.expect_request("/v2/bot/message/reply").respond_with_json(SENT)
    post_line(
        demo.test_client(), line_body(line_text_event("状況", user_id="Usato", event_id="F1"))
    )
    [sent] = replies(line_api)
    flex = [m for m in sent["messages"] if m["type"] == "flex"]
    assert len(flex) == 1 and flex[0]["altText"] == "協定の状況（2件）"
    carousel = flex[0]["contents"]
    assert carousel["type"] == "carousel" and len(carousel["contents"]) == 2
    header = carousel["contents"][0]["header"]["contents"][0]["text"]
    assert header == "みなと市と株式会社アクメ"


def test_a_question_comes_with_quick_replies_on_line(demo: Flask, line_api: HTTPServer) -> None:
    link_line(demo, "sato", "Usato")
    line_api.expect_request("/v2/bot/message/reply").respond_with_json(SENT)
    client = demo.test_client()
    post_line(
        client, line_body(line_text_event("タスク 12/5 チラシ入稿", user_id="Usato", event_id="Q1"))
    )
    items = replies(line_api)[0]["messages"][-1]["quickReply"]["items"]
    assert [i["action"]["label"] for i in items] == [
        "みなと市と株式会社アクメ",
        "さくら町地域活性化プラットフォーム",
    ]
    assert all(i["action"]["type"] == "postback" for i in items)
    # typing the number answers the question stored in the database
    post_line(client, line_body(line_text_event("2", user_id="Usato", event_id="Q2")))
    assert "タスクを登録しました" in replies(line_api)[1]["messages"][0]["text"]
    assert "さくら町地域活性化プラットフォーム" in replies(line_api)[1]["messages"][0]["text"]


def test_in_a_line_group_a_command_word_is_answered(demo: Flask, line_api: HTTPServer) -> None:
    link_line(demo, "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply").respond_with_json(SENT)
    line_api.expect_request("/v2/bot/message/push").respond_with_json(SENT)
    event = line_text_event("予定", user_id="Utanaka", event_id="G3", group_id="Cgroup")
    post_line(demo.test_client(), line_body(event))
    # The due list is tanaka's own: pushed 1:1, the group gets a note (handlers/privacy.py).
    assert "1対1のトーク" in replies(line_api)[0]["messages"][0]["text"]
    [push] = [json.loads(q.get_data()) for q, _ in line_api.log if q.path.endswith("/push")]
    assert push["to"] == "Utanaka" and "今後30日の予定・期限" in push["messages"][0]["text"]


def test_slash_command_answers_ephemerally(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    slack_api.expect_request("/commands/respond", method="POST").respond_with_data("ok")
    body = urlencode(
        {
            "token": "t",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "Utanaka",
            "command": "/renkei",
            "text": "予定",
            "response_url": slack_api.url_for("/commands/respond"),
            "trigger_id": "123.456",
        }
    )
    res = post_slack(demo.test_client(), body, content_type="application/x-www-form-urlencoded")
    executor.drain()
    assert res.status_code == 200
    [(request, _)] = [e for e in slack_api.log if e[0].path == "/commands/respond"]
    payload = json.loads(request.get_data())
    assert payload["response_type"] == "ephemeral"
    assert "今後30日の予定・期限" in payload["text"]


def test_private_answers_in_a_channel_are_ephemeral(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    slack_api.expect_request("/api/chat.postEphemeral").respond_with_json(
        {"ok": True, "message_ts": "1.2"}
    )
    event = {
        "type": "app_mention",
        "channel": "C1",
        "user": "Utanaka",
        "text": "<@UBOT> 予定",
        "ts": "1.1",
    }
    post_slack(demo.test_client(), slack_event_body(event, event_id="Ev-e"))
    executor.drain()
    [(request, _)] = [e for e in slack_api.log if e[0].path == "/api/chat.postEphemeral"]
    fields = json.loads(request.get_data())
    assert (fields["channel"], fields["user"]) == ("C1", "Utanaka")
    assert "今後30日の予定・期限" in fields["text"]
    assert posts(slack_api) == []  # nothing public


def test_app_home_shows_whats_due(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    slack_api.expect_request("/api/views.publish").respond_with_json({"ok": True})
    event = {"type": "app_home_opened", "user": "Utanaka", "channel": "D1", "tab": "home"}
    post_slack(demo.test_client(), slack_event_body(event, event_id="Ev-h"))
    executor.drain()
    [(request, _)] = [e for e in slack_api.log if e[0].path == "/api/views.publish"]
    body = json.loads(request.get_data())
    assert body["user_id"] == "Utanaka"
    view = body["view"] if isinstance(body["view"], dict) else json.loads(body["view"])
    assert view["type"] == "home"
    assert "第8回 実務者会議" in json.dumps(view, ensure_ascii=False)


def test_a_button_tap_in_slack_runs_its_command(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "sato", "Usato")
    expect_post(slack_api)
    client = demo.test_client()
    post_slack(client, slack_event_body(dm("活動 11/24 清掃 参加者30名"), event_id="Ev-b1"))
    executor.drain()
    [(_, asked)] = posts(slack_api)
    blocks = json.loads(asked["blocks"]) if isinstance(asked["blocks"], str) else asked["blocks"]
    [actions] = [b for b in blocks if b["type"] == "actions"]
    button = actions["elements"][1]
    payload = {
        "type": "block_actions",
        "user": {"id": "Usato"},
        "channel": {"id": "D1"},
        "team": {"id": "T1"},
        "actions": [{**button, "action_ts": "1700000002.1", "block_id": "b"}],
        "trigger_id": "1.2",
        "container": {"type": "message"},
        "api_app_id": "A1",
        "token": "t",
    }
    res = post_slack(
        client,
        urlencode({"payload": json.dumps(payload, ensure_ascii=False)}),
        content_type="application/x-www-form-urlencoded",
    )
    executor.drain()
    assert res.status_code == 200
    assert "活動を記録しました" in posts(slack_api)[1][1]["text"]
