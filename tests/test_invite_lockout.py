"""After five wrong invite codes an account is refused for an hour (signed LINE webhooks)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from storage.db import transaction
from storage.identities import create_invite
from storage.models import ChatIdentity, Contact
from tests.support import Clock, line_body, line_text_event, post_line

SENT = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "q"}]}


def _code(app: Flask, contact_key: str) -> str:
    r = app.extensions["renkei"]
    with transaction(r.sessions) as s:
        contact = s.scalar(select(Contact).where(Contact.key == contact_key))
        return create_invite(s, contact, now=r.clock()).code


def _send(app: Flask, line_api: HTTPServer, text: str, user: str, event_id: str) -> str:
    before = len(line_api.log)
    post_line(app.test_client(), line_body(line_text_event(text, user_id=user, event_id=event_id)))
    [(request, _)] = line_api.log[before:]
    return json.loads(request.get_data())["messages"][0]["text"]


def _linked(app: Flask) -> list[str]:
    with app.extensions["renkei"].sessions() as s:
        return list(s.scalars(select(ChatIdentity.external_id)))


def test_five_wrong_codes_lock_the_account_for_an_hour(
    demo: Flask, line_api: HTTPServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(SENT)
    code = _code(demo, "suzuki")
    wrong = "ZZZZZ2" if code != "ZZZZZ2" else "ZZZZZ3"
    with caplog.at_level(logging.WARNING, logger="handlers.commands.link"):
        answers = [_send(demo, line_api, f"登録 {wrong}", "Umallory", f"W{i}") for i in range(5)]
    assert all("期限切れ・使用済み" in a for a in answers[:4])
    assert "5回続けて失敗" in answers[4] and "60分ほど" in answers[4]
    [warning] = [r for r in caplog.records if "locked out" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "Umallory" in warning.getMessage()

    # The right code is refused while locked out; nothing is linked.
    clock.now += timedelta(minutes=30)
    assert "しばらく登録できません" in _send(demo, line_api, f"登録 {code}", "Umallory", "W6")
    assert _linked(demo) == []

    # Another account is not affected.
    other = _code(demo, "tanaka")
    assert "登録しました" in _send(demo, line_api, f"登録 {other}", "Utanaka", "W7")

    # An hour later the account may try again, and the right code works.
    clock.now += timedelta(minutes=31)
    assert "鈴木 一郎さん、登録しました" in _send(demo, line_api, f"登録 {code}", "Umallory", "W8")
    assert sorted(_linked(demo)) == ["Umallory", "Utanaka"]


def test_a_success_forgives_earlier_mistakes(demo: Flask, line_api: HTTPServer) -> None:
    line_api.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(SENT)
    for i in range(4):
        _send(demo, line_api, "登録 ZZZZZ9", "Usuzuki", f"A{i}")
    assert "登録しました" in _send(demo, line_api, f"登録 {_code(demo, 'suzuki')}", "Usuzuki", "A5")
    # four more mistakes (a re-link attempt) do not lock: the count started again
    answers = [_send(demo, line_api, "登録 ZZZZZ9", "Usuzuki", f"B{i}") for i in range(4)]
    assert not any("失敗したため" in a for a in answers)
