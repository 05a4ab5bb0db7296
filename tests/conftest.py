"""Fixtures: a real database (SQLite file, or the PostgreSQL named by DATABASE_URL), stub LINE
and Slack APIs on random 127.0.0.1 ports, and the app built by the real factory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import create_app
from config import Settings
from config.demo import DEMO_FILE, render_demo
from storage.agreement_file import parse_agreement_file
from storage.db import transaction, upgrade
from storage.importer import import_agreements
from storage.models import Base
from tests.support import (
    LINE_SECRET,
    LINE_TOKEN,
    SLACK_SECRET,
    SLACK_TOKEN,
    Clock,
    RecordingExecutor,
)

TOKYO = ZoneInfo("Asia/Tokyo")
# The tests' "now": a Wednesday morning in Tokyo. Demo data is dated around it.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=TOKYO)
TODAY = date(2026, 11, 25)


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres://")):
        return None
    name = make_url(url.replace("postgres://", "postgresql://", 1)).database or ""
    if "test" not in name:  # the suite empties the database: never touch a real one
        pytest.exit(f"refusing to run tests on database {name!r}: its name must contain 'test'")
    return url.replace("postgresql://", "postgresql+psycopg://", 1).replace(
        "postgres://", "postgresql+psycopg://", 1
    )


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once: a template SQLite file, or the PostgreSQL test database."""
    pg = _postgres_url()
    if pg:
        engine = create_engine(pg)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        upgrade(pg)
        return pg
    template = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{template}")
    return str(template)


@pytest.fixture
def database_url(_migrated: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for each test."""
    if _migrated.startswith("postgresql"):
        engine = create_engine(_migrated)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield _migrated
        return
    path = tmp_path / "renkei.db"
    shutil.copy(_migrated, path)
    yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _stub_servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    # Started once (stopping one takes half a second); each test gets them cleared.
    servers = (HTTPServer(host="127.0.0.1", port=0), HTTPServer(host="127.0.0.1", port=0))
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def line_api(_stub_servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    """A stand-in for api.line.me; tests add the expectations they need."""
    server = _stub_servers[0]
    server.clear()
    yield server
    server.clear()


@pytest.fixture
def slack_api(_stub_servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    """A stand-in for slack.com/api; answers auth.test, which Bolt calls on first use."""
    server = _stub_servers[1]
    server.clear()
    server.expect_request("/api/auth.test").respond_with_json(
        {
            "ok": True,
            "team_id": "T1",
            "user_id": "UBOT",
            "bot_id": "BBOT",
            "url": "https://x.slack.com/",
        }
    )
    yield server
    server.clear()


@pytest.fixture
def settings(database_url: str, line_api: HTTPServer, slack_api: HTTPServer) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        line_channel_secret=LINE_SECRET,
        line_channel_access_token=LINE_TOKEN,
        line_api_endpoint=line_api.url_for("").rstrip("/"),
        slack_signing_secret=SLACK_SECRET,
        slack_bot_token=SLACK_TOKEN,
        slack_api_url=slack_api.url_for("/api/"),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def executor() -> Iterator[RecordingExecutor]:
    ex = RecordingExecutor()
    yield ex
    ex.shutdown()


@pytest.fixture
def app(settings: Settings, clock: Clock, executor: RecordingExecutor) -> Iterator[Flask]:
    flask_app = create_app(
        settings,
        clock=clock,
        slack_executor=executor,  # type: ignore[arg-type]
        line_executor=executor,  # type: ignore[arg-type]
    )
    flask_app.testing = True
    yield flask_app
    flask_app.extensions["renkei"].engine.dispose()


@pytest.fixture
def demo(app: Flask) -> Flask:
    """The app with the demo agreements loaded, dated around TODAY."""
    r = app.extensions["renkei"]
    data = parse_agreement_file(render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY))
    with transaction(r.sessions) as session:
        import_agreements(session, data, tz=TOKYO, now=NOW)
    return app
