"""Every request payload the Slack SDKs ship in their tests (tests/fixtures/slack/README.md),
really signed, posted twice through the Flask app against the stub Slack API: always a 200,
never an error, and an event is applied once."""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from slack_bolt.request.internals import extract_team_id
from sqlalchemy import func, select

from bot.app import create_app
from config import Settings
from config.demo import DEMO_FILE, render_demo
from storage.agreement_file import parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements
from storage.models import ProcessedEvent
from tests.conftest import NOW, TODAY, TOKYO
from tests.support import Clock, RecordingExecutor, link_account, post_slack
from tests.test_slack_hardening import calls

HERE = Path(__file__).parent / "fixtures" / "slack"
FIXTURES = sorted(HERE.glob("[0-9]*.json"))
RESPONSE_URL = re.compile(r"https?://(hooks\.slack\.com|localhost:8888)")
# Users the fixtures speak as, linked so their DMs get real answers rather than the how-to.
LINKED = {"U111": "tanaka", "W111": "sato", "U222": "ito"}
REPLIES = ("chat.postMessage", "chat.postEphemeral", "respond")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def fields(fixture: dict[str, Any]) -> dict[str, Any]:
    """The request as Bolt reads it: the JSON body, the payload, or the form fields."""
    body = fixture["body"]
    if fixture["post_as"] == "form":
        return {k: v[0] for k, v in parse_qs(body).items()}
    return body


def team_of(path: Path) -> str:
    return extract_team_id(fields(load(path))) or "-"


def encoded(fixture: dict[str, Any], stub: str) -> tuple[str, str]:
    """(body, content type) as Slack posts it; response URLs aimed at the stub."""
    how = fixture["post_as"]
    text = RESPONSE_URL.sub(stub, json.dumps(fields(fixture), ensure_ascii=False))
    if how == "json":
        return text, "application/json"
    if how == "payload":
        return "payload=" + quote(text), "application/x-www-form-urlencoded"
    return urlencode(json.loads(text)), "application/x-www-form-urlencoded"  # form, command


BY_TEAM: dict[str, list[Path]] = defaultdict(list)
for _path in FIXTURES:
    BY_TEAM[team_of(_path)].append(_path)
# Payloads that name no team are served by whichever workspace; they ride with T111's.
BY_TEAM["T111"] += BY_TEAM.pop("-", [])


def build(settings: Settings, executor: RecordingExecutor, team: str) -> Flask:
    app = create_app(
        settings.model_copy(update={"slack_team_id": team}),
        clock=Clock(NOW),
        slack_executor=executor,  # type: ignore[arg-type]
    )
    r = app.extensions["renkei"]
    data = parse_agreement_file(render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY))
    with transaction(r.sessions) as session:
        import_agreements(session, data, tz=TOKYO, now=NOW)
    for user, contact in LINKED.items():
        link_account(app, "slack", contact, user)
    return app


@pytest.fixture
def stub(slack_api: HTTPServer) -> Iterator[HTTPServer]:
    for method in ("chat.postMessage", "chat.postEphemeral", "views.publish"):
        slack_api.expect_request(f"/api/{method}", method="POST").respond_with_json(
            {"ok": True, "channel": "D1", "ts": "1.1"}
        )
    slack_api.expect_request(re.compile("^/hooks/")).respond_with_data("ok")
    yield slack_api


def replies(stub: HTTPServer) -> int:
    answered = sum(len(calls(stub, m)) for m in REPLIES[:2])
    return answered + sum(1 for req, _ in stub.log if req.path.startswith("/hooks/"))


def processed(app: Flask) -> int:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(select(func.count()).select_from(ProcessedEvent))


def post_all(app: Flask, paths: list[Path], stub: HTTPServer, executor: RecordingExecutor) -> None:
    client = app.test_client()
    base = stub.url_for("").rstrip("/")
    for path in paths:
        body, ctype = encoded(load(path), base + "/hooks")
        res = post_slack(client, body, content_type=ctype)
        assert res.status_code == 200, (path.name, res.status_code, res.get_data(as_text=True))
    executor.drain()


def test_the_fixtures_were_collected() -> None:
    assert len(FIXTURES) > 100
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    for path in FIXTURES:
        fixture = load(path)
        assert fixture["source"].startswith(("slackapi/bolt-python@", "slackapi/python-slack-sdk@"))
        assert f"`{path.name}`" in readme


@pytest.mark.parametrize("team", sorted(BY_TEAM))
def test_every_sdk_payload_is_acknowledged_and_applied_once(
    settings: Settings,
    stub: HTTPServer,
    executor: RecordingExecutor,
    caplog: pytest.LogCaptureFixture,
    team: str,
) -> None:
    app = build(settings, executor, team)
    caplog.set_level(logging.INFO)
    try:
        paths = BY_TEAM[team]
        post_all(app, paths, stub, executor)
        first = (processed(app), replies(stub))
        post_all(app, paths, stub, executor)  # Slack's retries: the same bodies again
        assert (processed(app), replies(stub)) == first
        event_ids = {fields(load(p)).get("event_id") for p in paths} - {None}
        assert first[0] <= len(event_ids) + len(paths)  # at most one claim per request
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
    finally:
        app.extensions["renkei"].engine.dispose()


def test_no_sdk_payload_of_another_workspace_is_applied(
    settings: Settings,
    stub: HTTPServer,
    executor: RecordingExecutor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = build(settings, executor, "T_NOT_OURS")
    caplog.set_level(logging.INFO)
    try:
        with_team = [p for p in FIXTURES if team_of(p) != "-"]
        post_all(app, with_team, stub, executor)
        assert processed(app) == 0
        assert replies(stub) == 0
        assert calls(stub, "views.publish") == []
        refused = [r for r in caplog.records if "another workspace" in r.getMessage()]
        # Slack's ssl_check is answered before anything else, whoever sends it.
        assert len(refused) == sum(1 for p in with_team if "ssl_check" not in fields(load(p)))
        assert all(r.levelno == logging.WARNING for r in refused)
    finally:
        app.extensions["renkei"].engine.dispose()
