"""The app factory, health check, channel switches and error answers."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from bot.app import create_app
from config import Settings, SettingsError, load_settings
from config.settings import DEFAULT_DATABASE_URL


def test_healthz_checks_the_database(app: Flask) -> None:
    res = app.test_client().get("/healthz")
    assert res.status_code == 200
    assert res.get_json() == {
        "status": "ok",
        "database": "ok",
        "clock": "unknown",  # no clock has beaten yet (tests/test_planner_isolation.py)
        "clock_heartbeat": None,
        "planner_failures": 0,
        "outbox_failed": 0,
    }


def test_healthz_reports_an_unreachable_database() -> None:
    # Nothing listens on port 1 of the loopback: the connection is refused at once.
    settings = Settings(_env_file=None, database_url="postgresql://renkei@127.0.0.1:1/renkei_test")  # type: ignore[call-arg]
    res = create_app(settings).test_client().get("/healthz")
    assert res.status_code == 503
    assert res.get_json() == {"status": "degraded", "database": "error"}


def test_channels_are_off_without_credentials(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    with caplog.at_level(logging.INFO, logger="bot.app"):
        app = create_app(settings)
    client = app.test_client()
    assert client.post("/line/webhook", data="{}").status_code == 404
    assert client.post("/slack/events", data="{}").status_code == 404
    [line] = [r.getMessage() for r in caplog.records if "channels off" in r.getMessage()]
    assert "LINE" in line and "Slack" in line


def test_unknown_paths_and_methods_answer_json_not_500(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/nope").status_code == 404
    assert client.get("/line/webhook").status_code == 405
    assert client.get("/nope").get_json() == {"error": "Not Found"}


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # CI sets it for the PostgreSQL run
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.database_url == DEFAULT_DATABASE_URL and "/instance/renkei.db" in s.database_url
    assert (s.timezone, s.port, s.line_enabled, s.slack_enabled) == (
        "Asia/Tokyo",
        8000,
        False,
        False,
    )
    assert s.line_api_endpoint == "https://api.line.me"
    assert s.slack_api_url == "https://slack.com/api/"


def test_a_channel_needs_both_credentials() -> None:
    assert not Settings(_env_file=None, line_channel_secret="s").line_enabled  # type: ignore[call-arg]
    both = Settings(_env_file=None, slack_signing_secret="s", slack_bot_token="t")  # type: ignore[call-arg]
    assert both.slack_enabled


def test_slack_api_url_keeps_its_trailing_slash() -> None:
    s = Settings(_env_file=None, slack_api_url="http://127.0.0.1:9/api")  # type: ignore[call-arg]
    assert s.slack_api_url == "http://127.0.0.1:9/api/"


def test_postgres_urls_use_psycopg3() -> None:
    s = Settings(_env_file=None, database_url="postgresql://u@h/db")  # type: ignore[call-arg]
    assert s.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"PORT": "abc"}, "PORT"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"LINE_API_ENDPOINT": "ftp://x"}, "LINE_API_ENDPOINT"),
    ],
)
def test_malformed_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], name: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)
    assert str(err.value).startswith(f"{name}: ")
    assert "\n" not in str(err.value)


def test_line_refuses_a_plain_http_public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "PUBLIC_BASE_URL": "http://renkei.example.jp",
    }.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)
    assert str(err.value).startswith("PUBLIC_BASE_URL must be an https:// address")
    assert "\n" not in str(err.value)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1.example.jp")  # not loopback
    with pytest.raises(SettingsError):
        load_settings(_env_file=None)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://renkei.example.jp")
    assert load_settings(_env_file=None).line_enabled
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")  # a local run against stubs
    assert load_settings(_env_file=None).line_enabled
    # LINE off: the local default http://127.0.0.1 is fine
    monkeypatch.delenv("LINE_CHANNEL_SECRET")
    monkeypatch.delenv("PUBLIC_BASE_URL")
    assert load_settings(_env_file=None).public_base_url == "http://127.0.0.1:8000"
