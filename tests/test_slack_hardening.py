"""Slack as a hostile or merely busy world sends it: forged headers, other workspaces, bots,
threads, edits, file shares, Slack's text markup, interactivity without a listener."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, quote

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.app import create_app
from config import Settings
from storage.models import (
    ActionItem,
    Activity,
    Agreement,
    AgreementContact,
    Contact,
    ProcessedEvent,
)
from tests.support import (
    RecordingExecutor,
    post_slack,
    slack_event_body,
    slack_headers,
    tie_chat,
)
from tests.test_database_outage import database_away
from tests.test_slack_events import count, dm, expect_post, link_slack


def calls(slack_api: HTTPServer, method: str) -> list[dict]:
    """The fields of every call of `method` the stub Slack API received."""
    out = []
    for req, _ in slack_api.log:
        if req.path == f"/api/{method}":
            raw = req.get_data(as_text=True)
            out.append(
                json.loads(raw)
                if req.mimetype == "application/json"
                else {k: v[0] for k, v in parse_qs(raw).items()}
            )
    return out


def expect(slack_api: HTTPServer, method: str) -> None:
    slack_api.expect_request(f"/api/{method}", method="POST").respond_with_json(
        {"ok": True, "channel": "D1", "ts": "1.1"}
    )


def send(app: Flask, executor: RecordingExecutor, event: dict, event_id: str, times: int = 1):
    client = app.test_client()
    results = [post_slack(client, slack_event_body(event, event_id=event_id)) for _ in range(times)]
    executor.drain()
    assert [r.status_code for r in results] == [200] * times
    return results


# --- 5. headers first, and no unverified body in the logs ---------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Request-Timestamp": "１７００", "X-Slack-Signature": "v0=1"},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=1"},
        {"X-Slack-Request-Timestamp": "1700000000"},
    ],
)
def test_missing_or_malformed_slack_headers_are_401_and_nothing_is_logged_of_the_body(
    demo: Flask, slack_api: HTTPServer, caplog: pytest.LogCaptureFixture, headers: dict
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    forged = "活動 11/20 防災訓練\n2026-12-01 ERROR forged log line " + "x" * 5000
    body = slack_event_body(dm(forged, user="Utanaka"), event_id="EvH1")
    caplog.set_level(logging.DEBUG)
    res = demo.test_client().post(
        "/slack/events", data=body, headers={"Content-Type": "application/json", **headers}
    )
    assert res.status_code == 401
    assert count(demo, Activity) == 0 and count(demo, ProcessedEvent) == 0
    assert "forged log line" not in caplog.text and "x" * 100 not in caplog.text


def test_a_wrong_signature_is_refused_without_logging_the_body(
    demo: Flask, slack_api: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    body = slack_event_body(dm("forged log line"), event_id="EvH2")
    headers = slack_headers(body, secret="not-the-secret")
    caplog.set_level(logging.DEBUG)
    res = demo.test_client().post(
        "/slack/events", data=body, headers={"Content-Type": "application/json", **headers}
    )
    assert res.status_code == 401
    assert "forged log line" not in caplog.text
    assert "signature invalid" in caplog.text


# --- 4. one workspace ---------------------------------------------------------------------


def other_team_body(
    event: dict, event_id: str, team: str = "T2", *, authorizations: bool = True
) -> str:
    body = json.loads(slack_event_body(event, event_id=event_id))
    body["team_id"] = team
    body["authorizations"][0]["team_id"] = team
    if not authorizations:
        del body["authorizations"]
    return json.dumps(body, ensure_ascii=False)


def test_an_event_of_another_workspace_is_acknowledged_and_ignored(
    demo: Flask,
    slack_api: HTTPServer,
    executor: RecordingExecutor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    caplog.set_level(logging.INFO)
    client = demo.test_client()
    for body in (
        other_team_body(dm("活動 11/20 防災訓練", user="Utanaka"), "EvT1"),
        # Only the installation changed (a payload without `authorizations` names it by
        # `team_id`): still another workspace.
        other_team_body(dm("活動 11/20 防災訓練", user="Utanaka"), "EvT2", authorizations=False),
    ):
        assert '"T2"' in body and body.count('"T1"') == 0
        assert post_slack(client, body).status_code == 200
    executor.drain()
    assert count(demo, Activity) == 0 and count(demo, ProcessedEvent) == 0
    assert calls(slack_api, "chat.postMessage") == []
    warnings = [r for r in caplog.records if "another workspace" in r.getMessage()]
    assert len(warnings) == 2 and all(r.levelno == logging.WARNING for r in warnings)
    assert "防災訓練" not in caplog.text
    # auth.test was asked once, then cached.
    assert len(calls(slack_api, "auth.test")) == 1
    # The same event from our own workspace is applied.
    send(demo, executor, dm("活動 11/20 防災訓練", user="Utanaka"), "EvT3")
    assert count(demo, Activity) == 1


def test_a_channel_shared_with_another_organisation_is_served(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    # Slack Connect: the sender's workspace is T2, the installation (authorizations) is ours.
    link_slack(demo, "sato", "Usato")
    tie_chat(demo, "slack", "C1", "minato-acme", "sakura-platform")  # all of sato's
    expect_post(slack_api)
    mention = {
        "type": "app_mention",
        "channel": "C1",
        "user": "Usato",
        "text": "<@UBOT> 履歴",
        "ts": "1.5",
    }
    body = json.loads(slack_event_body(mention, event_id="EvT4"))
    body.update(team_id="T2", is_ext_shared_channel=True)
    assert post_slack(demo.test_client(), json.dumps(body)).status_code == 200
    executor.drain()
    assert count(demo, ProcessedEvent) == 1
    assert len(calls(slack_api, "chat.postMessage")) == 1


def test_slack_team_id_setting_names_the_workspace(
    settings: Settings, clock, executor: RecordingExecutor, slack_api: HTTPServer
) -> None:
    app = create_app(
        settings.model_copy(update={"slack_team_id": "T9"}),
        clock=clock,
        slack_executor=executor,  # type: ignore[arg-type]
    )
    try:
        # auth.test says T1, the setting says T9: T1's events are not ours.
        send(app, executor, dm("予定"), "EvT9")
        assert count(app, ProcessedEvent) == 0
        assert calls(slack_api, "chat.postMessage") == []
    finally:
        app.extensions["renkei"].engine.dispose()


# --- 2. bots, threads, file shares, edits -------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {**dm("予定"), "bot_id": "B999"},  # another app's bot
        {**dm("予定"), "subtype": "bot_message", "user": None, "username": "x"},
        {**dm("予定"), "user": "USLACKBOT"},  # Slackbot
        {
            "type": "app_mention",
            "channel": "C1",
            "user": "Uother",
            "bot_id": "B998",
            "text": "<@UBOT> 予定",
            "ts": "1.3",
        },
    ],
)
def test_bots_and_slackbot_get_no_answer(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor, event: dict
) -> None:
    link_slack(demo, "sato", "Usato")
    send(demo, executor, event, "EvB1")
    assert calls(slack_api, "chat.postMessage") == []
    assert calls(slack_api, "chat.postEphemeral") == []
    assert count(demo, ProcessedEvent) == 0


def test_a_reply_in_a_dm_thread_is_answered_in_that_thread(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    threaded = {**dm("活動 11/20 防災訓練", user="Utanaka"), "thread_ts": "1699999999.000100"}
    send(demo, executor, threaded, "EvR1", times=2)
    [post] = calls(slack_api, "chat.postMessage")
    assert post["thread_ts"] == "1699999999.000100"
    assert count(demo, Activity) == 1
    # A top-level DM is answered top-level.
    send(demo, executor, dm("予定", user="Utanaka"), "EvR2")
    assert "thread_ts" not in calls(slack_api, "chat.postMessage")[1]


def test_a_file_shared_with_a_caption_is_read_as_text(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    files = [{"id": "F1", "name": "photo.jpg", "mimetype": "image/jpeg"}]
    shared = {
        **dm("活動 11/20 防災訓練 参加者45名", user="Utanaka"),
        "subtype": "file_share",
        "files": files,
    }
    send(demo, executor, shared, "EvF1", times=2)
    assert count(demo, Activity) == 1
    bare = {**dm("", user="Utanaka"), "subtype": "file_share", "files": files}
    send(demo, executor, bare, "EvF2", times=2)
    texts = [p["text"] for p in calls(slack_api, "chat.postMessage")]
    assert len(texts) == 2 and "ファイルや画像の中身は読み取れません" in texts[1]
    assert count(demo, Activity) == 1


def test_an_edited_message_changes_nothing_and_says_so_once(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    send(demo, executor, dm("活動 11/20 防災訓練 参加者45名", user="Utanaka"), "EvE1")
    with demo.extensions["renkei"].sessions() as s:
        before = s.scalars(select(Activity.counts)).all()
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D1",
        "channel_type": "im",
        "hidden": True,
        "ts": "1700000100.000200",
        "message": {
            "type": "message",
            "user": "Utanaka",
            "text": "活動 11/20 防災訓練 参加者50名",
            "ts": "1700000000.000100",
            "edited": {"user": "Utanaka", "ts": "1700000100.000000"},
        },
        "previous_message": {
            "type": "message",
            "user": "Utanaka",
            "text": "活動 11/20 防災訓練 参加者45名",
            "ts": "1700000000.000100",
        },
    }
    send(demo, executor, edited, "EvE2", times=2)
    notes = [p["text"] for p in calls(slack_api, "chat.postMessage")][1:]
    assert len(notes) == 1 and "編集は反映されません" in notes[0] and "取消" in notes[0]
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalars(select(Activity.counts)).all() == before
    # A link unfurl is also a message_changed, with the text unchanged: silence.
    unfurl = {**edited, "message": {**edited["previous_message"], "attachments": [{"id": 1}]}}
    send(demo, executor, unfurl, "EvE3")
    assert len(calls(slack_api, "chat.postMessage")) == 2


# --- 1. Slack text: entities, links, e-mail, mentions -------------------------------------


def test_entities_and_links_are_stored_as_typed(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    text = (
        "活動 11/20 清掃 &amp; 交流会 &lt;雨天&gt; メモ:<https://example.jp/a?b=1&amp;c=2|報告書>"
    )
    send(demo, executor, dm(text, user="Utanaka"), "EvX1")
    with demo.extensions["renkei"].sessions() as s:
        activity = s.scalars(select(Activity)).one()
    assert activity.title == "清掃 & 交流会 <雨天>"
    assert activity.note == "報告書"
    # Our answer escapes them again, so Slack shows them rather than reading markup.
    [post] = calls(slack_api, "chat.postMessage")
    shown = json.dumps(post["blocks"], ensure_ascii=False)
    assert "清掃 &amp; 交流会 &lt;雨天&gt;" in shown


def test_a_mailto_link_in_reassign_becomes_the_address(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    # (タスク:残す answers the handover's question about tanaka's open tasks up front)
    text = "担当変更 山田 太郎 <mailto:yamada@example.jp|yamada@example.jp> タスク:残す"
    send(demo, executor, dm(text, user="Utanaka"), "EvX2")
    with demo.extensions["renkei"].sessions() as s:
        successor = s.scalars(select(Contact).where(Contact.name.like("山田%"))).one()
    assert (successor.name, successor.email) == ("山田 太郎", "yamada@example.jp")


def test_a_mention_names_the_contact_linked_to_that_slack_user(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    link_slack(demo, "ito", "Uito")
    expect_post(slack_api)
    send(demo, executor, dm("タスク 12/5 資料送付 <@Uito>", user="Utanaka"), "EvM1", times=2)
    with demo.extensions["renkei"].sessions() as s:
        rows = s.execute(
            select(ActionItem.title, Contact.key).join(Contact, Contact.id == ActionItem.owner_id)
        ).all()
    assert [tuple(r) for r in rows if r.title == "資料送付"] == [("資料送付", "ito")]
    [post] = calls(slack_api, "chat.postMessage")
    assert "担当：伊藤 由美" in post["text"]


def test_an_unknown_mention_is_asked_about_never_given_to_the_sender(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    before = count(demo, ActionItem)
    send(demo, executor, dm("タスク 12/5 資料送付 <@U0NOBODY>", user="Utanaka"), "EvM2")
    assert count(demo, ActionItem) == before
    [post] = calls(slack_api, "chat.postMessage")
    assert "<@U0NOBODY> さんは Renkei に登録されていません" in post["text"]
    assert "誰の担当ですか" in post["text"]
    first_block = post["blocks"][0]["text"]["text"]
    assert first_block.startswith("<@U0NOBODY>")  # our own markup: a mention Slack renders


def test_the_bots_own_mention_is_dropped_in_a_channel(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    mention = {
        "type": "app_mention",
        "channel": "C1",
        "user": "Utanaka",
        "text": "<@UBOT> 活動 11/20 清掃 &amp; 交流会",
        "ts": "1700000002.000300",
    }
    tie_chat(demo, "slack", "C1", "minato-acme")  # tanaka's one agreement: shown there
    send(demo, executor, mention, "EvM3", times=2)
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalars(select(Activity.title)).all() == ["清掃 & 交流会"]
    [post] = calls(slack_api, "chat.postMessage")
    assert post["thread_ts"] == "1700000002.000300"


def test_a_private_answer_in_a_channel_is_ephemeral_and_stays_in_the_thread(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect(slack_api, "chat.postEphemeral")
    mention = {
        "type": "app_mention",
        "channel": "C9",  # no agreement's channel: tanaka's list is for tanaka only
        "user": "Utanaka",
        "text": "<@UBOT> 予定",
        "ts": "1700000003.000400",
        "thread_ts": "1700000001.000100",
    }
    send(demo, executor, mention, "EvM5", times=2)
    [private] = calls(slack_api, "chat.postEphemeral")
    assert (private["channel"], private["user"]) == ("C9", "Utanaka")
    assert private["thread_ts"] == "1700000001.000100"
    assert calls(slack_api, "chat.postMessage") == []


def test_slash_command_text_is_decoded(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    slack_api.expect_request("/hooks/respond", method="POST").respond_with_data("ok")
    form = {
        "command": "/renkei",
        "text": "活動 11/20 清掃 &amp; 交流会",
        "user_id": "Utanaka",
        "channel_id": "D1",
        "team_id": "T1",
        "trigger_id": "trig-1",
        "response_url": slack_api.url_for("/hooks/respond"),
    }
    body = "&".join(f"{k}={quote(v)}" for k, v in form.items())
    client = demo.test_client()
    for _ in range(2):
        res = post_slack(client, body, content_type="application/x-www-form-urlencoded")
        assert res.status_code == 200
    executor.drain()
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalars(select(Activity.title)).all() == ["清掃 & 交流会"]


# --- 3. interactivity without a listener ----------------------------------------------------


def interactive(payload: dict) -> str:
    return "payload=" + quote(json.dumps(payload, ensure_ascii=False))


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "shortcut", "callback_id": "secret-words", "trigger_id": "t"},
        {"type": "message_action", "callback_id": "x", "message": {"text": "secret-words"}},
        {"type": "view_submission", "view": {"callback_id": "v", "state": {"values": {}}}},
        {"type": "view_closed", "view": {"callback_id": "v"}},
        {"type": "block_suggestion", "action_id": "a", "block_id": "b", "value": "secret-words"},
        {
            "type": "block_actions",  # a button of another app version, no listener of ours
            "actions": [{"action_id": "legacy_button", "value": "secret-words", "action_ts": "1"}],
            "channel": {"id": "C1"},
        },
        {"type": "interactive_message", "callback_id": "old", "actions": [{"name": "b"}]},
        {"type": "something_slack_adds_next_year"},
    ],
)
def test_every_signed_interactivity_payload_gets_200_logged_by_type_only(
    app: Flask,
    slack_api: HTTPServer,
    executor: RecordingExecutor,
    caplog: pytest.LogCaptureFixture,
    payload: dict,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.INFO)
    body = {
        **payload,
        "team": {"id": "T1", "domain": "x"},
        "user": {"id": "Usato", "team_id": "T1"},
        "token": "legacy",
        "api_app_id": "A1",
    }
    res = post_slack(
        app.test_client(), interactive(body), content_type="application/x-www-form-urlencoded"
    )
    executor.drain()
    assert res.status_code == 200
    assert "secret-words" not in caplog.text
    assert payload["type"] in caplog.text  # the type is what the log says
    assert count(app, ProcessedEvent) == 0
    assert calls(slack_api, "chat.postMessage") == []


def test_reassign_to_a_mentioned_colleague_picks_the_linked_contact(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    link_slack(demo, "suzuki", "Usuzuki")
    expect_post(slack_api)
    send(demo, executor, dm("担当変更 <@Usuzuki> タスク:移す", user="Utanaka"), "EvM4")
    with demo.extensions["renkei"].sessions() as s:
        primaries = s.scalars(
            select(Contact.key)
            .join(AgreementContact, AgreementContact.contact_id == Contact.id)
            .join(Agreement, Agreement.id == AgreementContact.agreement_id)
            .where(Agreement.key == "minato-acme", AgreementContact.role == "primary")
        ).all()
        keys = s.scalars(select(Contact.key)).all()
    assert sorted(primaries) == ["sato", "suzuki"]  # tanaka's side passed to suzuki
    assert not [k for k in keys if "successor" in k]  # no new contact was made up


def test_the_database_away_while_noting_an_edit_asks_slack_to_retry(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    """The database unreachable inside a listener: 503, nothing posted; Slack's retry, once
    the database is back, is answered once."""
    expect_post(slack_api)
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "D1",
        "channel_type": "im",
        "message": {"type": "message", "user": "Utanaka", "text": "new", "ts": "1.1"},
        "previous_message": {"type": "message", "user": "Utanaka", "text": "old", "ts": "1.1"},
    }
    body = slack_event_body(edited, event_id="EvX9")
    client = demo.test_client()
    with database_away(demo):  # SQLite only: the file's directory is moved away
        down = post_slack(client, body)
        executor.drain()
    assert down.status_code == 503
    assert calls(slack_api, "chat.postMessage") == []
    for n in ("1", "2"):
        assert post_slack(client, body, extra={"X-Slack-Retry-Num": n}).status_code == 200
    executor.drain()
    assert len(calls(slack_api, "chat.postMessage")) == 1
    assert count(demo, ProcessedEvent) == 1


def test_a_mention_read_while_the_database_is_away_is_retried_and_applied_once(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    link_slack(demo, "ito", "Uito")
    expect_post(slack_api)
    body = slack_event_body(dm("タスク 12/5 資料送付 <@Uito>", user="Utanaka"), event_id="EvM9")
    client = demo.test_client()
    with database_away(demo):  # SQLite only: the file's directory is moved away
        down = post_slack(client, body)
        executor.drain()
    assert down.status_code == 503
    for n in ("1", "2"):
        assert post_slack(client, body, extra={"X-Slack-Retry-Num": n}).status_code == 200
    executor.drain()
    with demo.extensions["renkei"].sessions() as s:
        owners = s.scalars(
            select(Contact.key)
            .join(ActionItem, ActionItem.owner_id == Contact.id)
            .where(ActionItem.title == "資料送付")
        ).all()
    assert owners == ["ito"]
    assert len(calls(slack_api, "chat.postMessage")) == 1
