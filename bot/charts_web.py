"""Digest charts for LINE: LINE fetches an image message's picture over HTTPS, so the web app
serves each chart at an unguessable URL under PUBLIC_BASE_URL (the token is the only key)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from flask import Blueprint, Response, abort
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import ChartImage

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def chart_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/charts/{token}.png"


def store_chart(session: Session, png: bytes, *, alt: str, now: datetime) -> str:
    """Keep the picture in the database (any web worker can serve it); returns its token."""
    token = secrets.token_urlsafe(32)  # 256 bits: not guessable, not enumerable
    session.add(ChartImage(token=token, png=png, alt=alt[:300], created_at=now))
    session.flush()
    return token


def charts_blueprint(sessions: sessionmaker[Session]) -> Blueprint:
    bp = Blueprint("charts", __name__)

    @bp.get("/charts/<token>.png")
    def chart(token: str) -> Response:
        if not TOKEN.match(token):
            abort(404)
        with sessions() as session:
            png = session.scalar(select(ChartImage.png).where(ChartImage.token == token))
        if png is None:
            abort(404)
        response = Response(png, mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=604800"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return bp
