"""`create_app()` builds everything; nothing connects or starts at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import UTC, datetime

from flask import Flask, Response, jsonify
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from bot import log_format
from bot.charts_web import charts_blueprint
from bot.cli import register_cli
from bot.inbound import Inbound
from bot.line import line_blueprint
from bot.renkei import Renkei
from bot.senders import line_api
from bot.slack import slack_blueprint, slack_client
from bot.web import init_web
from config import Settings, load_settings
from storage.clock_status import clock_report
from storage.db import make_engine, make_session_factory, ping

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # webhooks are small; anything bigger is refused with 413


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    slack_executor: Executor | None = None,
    line_executor: Executor | None = None,
) -> Flask:
    settings = settings or load_settings()
    log_format.install(settings.log_level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    inbound = Inbound(sessions=sessions, tz=settings.tz, clock=clock)
    # Threads start on the first reply (none while LINE is off); pending replies are still sent
    # at a worker's exit: the pool's threads are joined.
    line_replies = line_executor or ThreadPoolExecutor(max_workers=4, thread_name_prefix="line")
    app.extensions["renkei"] = Renkei(settings, engine, sessions, clock, inbound, line_replies)

    off = []
    if settings.line_enabled:
        api = line_api(settings.line_api_endpoint, settings.line_channel_access_token)
        app.register_blueprint(
            line_blueprint(
                channel_secret=settings.line_channel_secret,
                api=api,
                inbound=inbound,
                replies=line_replies,
            )
        )
    else:
        off.append("LINE (set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN)")
    if settings.slack_enabled:
        client = slack_client(settings.slack_api_url, settings.slack_bot_token)
        app.register_blueprint(
            slack_blueprint(
                signing_secret=settings.slack_signing_secret,
                client=client,
                inbound=inbound,
                executor=slack_executor,
                team_id=settings.slack_team_id,
            )
        )
    else:
        off.append("Slack (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN)")
    if off:
        log.info("channels off: %s; the local channel is always on (`renkei chat`)", "; ".join(off))

    app.register_blueprint(charts_blueprint(sessions))  # digest charts for LINE image messages
    init_web(app, settings)  # the secretariat's web: pages, exports, calendar feeds
    _register_routes(app, engine)
    register_cli(app)
    return app


def _register_routes(app: Flask, engine: Engine) -> None:
    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        r: Renkei = app.extensions["renkei"]
        try:
            ok = ping(engine)
            with r.sessions() as session:
                report = clock_report(session, now=r.clock())
        except SQLAlchemyError:
            log.exception("health check: database unreachable")
            return jsonify(status="degraded", database="error"), 503
        healthy = ok and report["clock"] != "stale"
        return jsonify(
            status="ok" if healthy else "degraded", database="ok" if ok else "error", **report
        ), (200 if healthy else 503)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.name), exc.code or 400

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        # Should not happen: every adapter answers its own bad input. Log it, never leak it.
        log.exception("unhandled error")
        return jsonify(error="internal error"), 500
