"""Where a digest's chart lives: a row (`new_chart`) drawn by the web process on first fetch,
at one unguessable URL under PUBLIC_BASE_URL that LINE image messages and Slack image blocks
both point at. Plain values: the clock imports this without Flask or matplotlib."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def chart_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/charts/{token}.png"


def new_chart(spec: dict[str, Any], *, alt: str, now: datetime) -> dict[str, Any]:
    """A chart row to insert: the picture is drawn on first fetch (`charts_web.chart_png`)."""
    token = secrets.token_urlsafe(32)  # 256 bits: not guessable, not enumerable
    return {"token": token, "png": None, "spec": spec, "alt": alt[:300], "created_at": now}
