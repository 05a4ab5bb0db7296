"""Private answers never reach a group (handlers/privacy.py), on LINE and on Slack: signed
webhooks through the Flask app, the real SDK clients against the stub APIs, the database
checked for what was (not) written."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from handlers.privacy import PRIVATE_NOTE
from storage.db import transaction
from storage.identities import create_invite
from storage.models import Activity, Agreement, ChatIdentity, Contact, InviteCode
from tests.support import (
    RecordingExecutor,
    line_body,
    line_text_event,
    link_account,
    post_line,
    post_slack,
    slack_event_body,
    tie_chat,
)

SENT = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}


def stub_line(line_api: HTTPServer) -> None:
    for path in ("/v2/bot/message/reply", "/v2/bot/message/push"):
        line_api.expect_request(path, method="POST").respond_with_json(SENT)


def line_calls(line_api: HTTPServer, kind: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
    return [
        (dict(req.headers), json.loads(req.get_data()))
        for req, _ in line_api.log
        if req.path == f"/v2/bot/message/{kind}"
    ]


def line_texts(line_api: HTTPServer, kind: str) -> list[str]:
    return [
        "\n".join(m.get("text", "") for m in body["messages"])
        for _, body in line_calls(line_api, kind)
    ]


def in_group(text: str, user: str, event_id: str, group: str = "Cgroup") -> str:
    return line_body(line_text_event(text, user_id=user, event_id=event_id, group_id=group))


def count(app: Flask, model: type) -> int:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def new_code(app: Flask, contact_key: str) -> str:
    r = app.extensions["renkei"]
    with transaction(r.sessions) as s:
        contact = s.scalar(select(Contact).where(Contact.key == contact_key))
        assert contact is not None
        return create_invite(s, contact, now=r.clock()).code


def test_a_group_tied_to_all_of_the_senders_agreements_sees_their_answers(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    tie_chat(demo, "line", "Cgroup", "minato-acme")  # tanaka's only agreement
    stub_line(line_api)
    post_line(demo.test_client(), in_group("活動 今日 防災訓練 参加者45名", "Utanaka", "a1"))
    [answer] = line_texts(line_api, "reply")
    assert "活動を記録しました" in answer
    assert line_calls(line_api, "push") == []
    assert count(demo, Activity) == 1


def test_anything_of_an_agreement_the_group_is_not_tied_to_goes_1to1(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "sato", "Usato")
    tie_chat(demo, "line", "Cgroup", "minato-acme")  # sato also has sakura-platform
    stub_line(line_api)
    client = demo.test_client()
    body = in_group("状況", "Usato", "s1")
    post_line(client, body)
    post_line(client, body)  # redelivered: neither pushed nor noted again
    assert line_texts(line_api, "reply") == [PRIVATE_NOTE]
    [(headers, push)] = line_calls(line_api, "push")
    assert push["to"] == "Usato"
    assert headers.get("X-Line-Retry-Key")  # a push repeated after a lost answer shows once
    shown = json.dumps(push, ensure_ascii=False)
    assert "さくら町地域活性化プラットフォーム" in shown


def test_a_successors_code_is_pushed_never_shown_in_the_group(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    tie_chat(demo, "line", "Cgroup", "minato-acme")
    stub_line(line_api)
    post_line(
        demo.test_client(),
        in_group("担当変更 山田 太郎 yamada@example.jp タスク:移す", "Utanaka", "r1"),
    )
    with demo.extensions["renkei"].sessions() as s:
        code = s.scalar(select(InviteCode.code).order_by(InviteCode.id.desc()))
    assert code is not None
    assert line_texts(line_api, "reply") == [PRIVATE_NOTE]
    [pushed] = line_texts(line_api, "push")
    assert code in pushed
    assert all(code not in t for t in line_texts(line_api, "reply"))


def test_a_code_typed_in_a_group_is_refused_there_and_can_no_longer_link_anyone(
    demo: Flask, line_api: HTTPServer
) -> None:
    stub_line(line_api)
    code = new_code(demo, "suzuki")
    client = demo.test_client()
    post_line(client, in_group(f"登録 {code}", "Usuzuki", "l1"))
    [refusal] = line_texts(line_api, "reply")
    assert "チャンネルでは使えません" in refusal and "無効にしました" in refusal
    assert line_calls(line_api, "push") == []
    # The same code, now sent 1:1 by whoever read it in the group: refused, nobody linked.
    post_line(client, line_body(line_text_event(f"登録 {code}", user_id="Ureader", event_id="l2")))
    assert "期限切れ・使用済み" in line_texts(line_api, "reply")[1]
    assert count(demo, ChatIdentity) == 0


# --- Slack: a private answer in a channel is ephemeral (only the sender sees it) ---------


def stub_slack(slack_api: HTTPServer) -> None:
    for method in ("chat.postMessage", "chat.postEphemeral"):
        slack_api.expect_request(f"/api/{method}", method="POST").respond_with_json(
            {"ok": True, "channel": "C1", "ts": "1.1", "message_ts": "1.1"}
        )


def slack_calls(slack_api: HTTPServer, method: str) -> list[dict[str, Any]]:
    out = []
    for req, _ in slack_api.log:
        if req.path == f"/api/{method}":
            raw = req.get_data(as_text=True)
            if req.mimetype == "application/json":
                out.append(json.loads(raw))
            else:
                out.append({k: v[0] for k, v in parse_qs(raw).items()})
    return out


def mention(text: str, user: str, event_id: str, channel: str = "C1") -> str:
    event = {
        "type": "app_mention",
        "channel": channel,
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": "1700000001.000200",
    }
    return slack_event_body(event, event_id=event_id)


def test_slack_an_answer_the_channel_may_not_see_is_ephemeral(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_account(demo, "slack", "sato", "Usato")
    tie_chat(demo, "slack", "C1", "minato-acme")  # not sato's sakura-platform
    stub_slack(slack_api)
    post_slack(demo.test_client(), mention("状況", "Usato", "Ev1"))
    executor.drain()
    assert slack_calls(slack_api, "chat.postMessage") == []
    [ephemeral] = slack_calls(slack_api, "chat.postEphemeral")
    assert (ephemeral["channel"], ephemeral["user"]) == ("C1", "Usato")


def test_slack_a_channel_tied_to_all_of_the_senders_agreements_sees_the_answer(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_account(demo, "slack", "tanaka", "Utanaka")
    tie_chat(demo, "slack", "C1", "minato-acme")
    stub_slack(slack_api)
    post_slack(demo.test_client(), mention("活動 今日 防災訓練 参加者45名", "Utanaka", "Ev2"))
    executor.drain()
    [public] = slack_calls(slack_api, "chat.postMessage")
    assert public["channel"] == "C1" and "活動を記録しました" in public["text"]
    assert slack_calls(slack_api, "chat.postEphemeral") == []
    assert count(demo, Activity) == 1


def test_slack_a_code_typed_in_a_channel_is_voided(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    stub_slack(slack_api)
    code = new_code(demo, "suzuki")
    client = demo.test_client()
    post_slack(client, mention(f"登録 {code}", "Usuzuki", "Ev3"))
    executor.drain()
    [refusal] = slack_calls(slack_api, "chat.postMessage")
    assert "チャンネルでは使えません" in refusal["text"]
    dm = {"type": "message", "channel": "D9", "channel_type": "im", "user": "Usuzuki"}
    post_slack(client, slack_event_body({**dm, "text": f"登録 {code}", "ts": "2.1"}, event_id="E4"))
    executor.drain()
    assert count(demo, ChatIdentity) == 0


def test_slack_the_same_command_ties_a_channel(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_account(demo, "slack", "tanaka", "Utanaka")
    stub_slack(slack_api)
    post_slack(demo.test_client(), mention("このグループを協定に登録", "Utanaka", "Ev5", "C7"))
    executor.drain()
    with demo.extensions["renkei"].sessions() as s:
        tied = s.scalar(select(Agreement.slack_channel).where(Agreement.key == "minato-acme"))
    assert tied == "C7"
    [public] = slack_calls(slack_api, "chat.postMessage")
    assert public["channel"] == "C7" and "slack_channel: C7" in public["text"]


def test_e_mail_addresses_in_a_handover_document_stay_out_of_the_group(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    tie_chat(demo, "line", "Cgroup", "minato-acme")  # tanaka's only agreement: not the reason
    stub_line(line_api)
    post_line(demo.test_client(), in_group("引継ぎ", "Utanaka", "h1"))
    assert line_texts(line_api, "reply") == [PRIVATE_NOTE]
    [pushed] = line_texts(line_api, "push")
    assert "引継ぎ資料" in pushed and "tanaka@city.minato.example.jp" in pushed


def test_contacts_asked_in_a_group_go_to_the_asker_alone(demo: Flask, line_api: HTTPServer) -> None:
    """「連絡先」 holds e-mail addresses: even in a group tied to the asker's only agreement,
    the group gets the one-line note and the asker the list."""
    link_account(demo, "line", "tanaka", "Utanaka")
    tie_chat(demo, "line", "Cgroup", "minato-acme")
    stub_line(line_api)
    post_line(demo.test_client(), in_group("連絡先", "Utanaka", "c1"))
    assert line_texts(line_api, "reply") == [PRIVATE_NOTE]
    [(_, pushed)] = line_calls(line_api, "push")
    assert pushed["to"] == "Utanaka"
    shown = json.dumps(pushed["messages"], ensure_ascii=False)
    assert "sato@acme.example.co.jp" in shown and "株式会社アクメ 正担当" in shown
