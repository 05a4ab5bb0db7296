"""Digest charts for LINE and Slack: both fetch an image's picture over HTTPS, so the web app
serves each chart at an unguessable URL under PUBLIC_BASE_URL (the token is the only key),
drawn here on first fetch: the clock never draws (bot.chart_links)."""

from __future__ import annotations

from flask import Blueprint, Response, abort
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.chart import render_spec
from bot.chart_links import TOKEN
from storage.db import read_only, transaction
from storage.models import ChartImage


def chart_png(sessions: sessionmaker[Session], token: str) -> bytes | None:
    """The picture behind `token`, drawn and kept the first time anyone asks (LINE fetching
    it, the Slack upload): drawing is outside any transaction, keeping it is one UPDATE."""
    with read_only(sessions) as session:
        found = session.execute(
            select(ChartImage.png, ChartImage.spec).where(ChartImage.token == token)
        ).first()
    if found is None:
        return None
    png, spec = found
    if png is None and spec:
        png = render_spec(spec)
        with transaction(sessions) as session:
            session.execute(
                update(ChartImage)
                .where(ChartImage.token == token, ChartImage.png.is_(None))
                .values(png=png)
            )
    return png


def charts_blueprint(sessions: sessionmaker[Session]) -> Blueprint:
    bp = Blueprint("charts", __name__)

    @bp.get("/charts/<token>.png")
    def chart(token: str) -> Response:
        if not TOKEN.match(token):
            abort(404)
        png = chart_png(sessions, token)
        if png is None:
            abort(404)
        response = Response(png, mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=604800"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return bp
