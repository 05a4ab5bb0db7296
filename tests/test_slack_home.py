"""The App Home: the rich menu's actions as buttons, above the due list; a tap answers in the
app's DM (the Messages tab)."""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import Flask
from pytest_httpserver import HTTPServer

from bot.line_rich_menu import AREAS
from bot.render_slack import HOME_ACTIONS
from handlers.registry import COMMANDS, match
from storage.models import ProcessedEvent
from tests.support import RecordingExecutor, post_slack
from tests.test_slack_events import count, link_slack
from tests.test_slack_hardening import calls, expect, send

HOME = {"type": "app_home_opened", "user": "Usato", "channel": "D1", "tab": "home"}


def test_the_home_tab_shows_the_menu_buttons_and_the_due_list(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "sato", "Usato")
    expect(slack_api, "views.publish")
    send(demo, executor, HOME, "EvHome1")
    [published] = calls(slack_api, "views.publish")
    view = (
        published["view"] if isinstance(published["view"], dict) else json.loads(published["view"])
    )
    assert published["user_id"] == "Usato" and view["type"] == "home"
    menu = view["blocks"][0]
    assert menu["type"] == "actions"
    labels = [b["text"]["text"] for b in menu["elements"]]
    assert labels == ["予定", "活動", "KPI", "状況", "ダッシュボード", "ヘルプ"]
    assert len({b["action_id"] for b in menu["elements"]}) == 6
    shown = json.dumps(view["blocks"], ensure_ascii=False)
    assert "協定書改定案の送付" in shown  # sato's due list follows the menu


def test_every_home_button_is_a_command_and_the_line_rich_menu_has_the_same() -> None:
    registered = {w for c in COMMANDS for w in c.words}
    for button in HOME_ACTIONS:
        assert button.text in registered
        found = match(button.text)
        assert found is not None, button.text
        assert found[0].name != "help" or button.text == "ヘルプ"
    assert [(b.label, b.text) for b in HOME_ACTIONS] == [(a.label, a.text) for a in AREAS]


def test_tapping_a_home_button_answers_in_the_apps_dm_once(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "sato", "Usato")
    expect(slack_api, "chat.postMessage")
    payload = {
        "type": "block_actions",
        "user": {"id": "Usato", "username": "sato", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "view", "view_id": "V1"},
        "trigger_id": "t-1",
        "team": {"id": "T1", "domain": "x"},
        "view": {"id": "V1", "type": "home", "team_id": "T1", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": "renkei_choice_home_0",
                "block_id": "b",
                "text": {"type": "plain_text", "text": "予定"},
                "value": "予定",
                "action_ts": "1700000000.1",
            }
        ],
    }
    body = "payload=" + quote(json.dumps(payload, ensure_ascii=False))
    client = demo.test_client()
    for _ in range(2):
        res = post_slack(client, body, content_type="application/x-www-form-urlencoded")
        assert res.status_code == 200
    executor.drain()
    [post] = calls(slack_api, "chat.postMessage")
    assert post["channel"] == "Usato"  # a user id: Slack posts into the app's DM
    assert "今後30日の予定・期限" in post["text"]
    assert count(demo, ProcessedEvent) == 1
