"""A small threaded HTTP client that signs webhooks for real, as LINE and Slack do.

One fresh connection per request (gunicorn's sync workers close it anyway), the same client for
every server it is compared against. Only 127.0.0.1 is ever a target.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.figures import p95, percentile

Request = tuple[str, bytes, dict[str, str]]  # path, body, headers


def line_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def line_text_request(
    text: str, *, user_id: str, event_id: str, reply_token: str, secret: str
) -> Request:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        "message": {"type": "text", "id": event_id[-18:], "quoteToken": "q", "text": text},
    }
    body = json.dumps({"destination": "Ubench", "events": [event]}, ensure_ascii=False).encode()
    return (
        "/line/webhook",
        body,
        {
            "Content-Type": "application/json",
            "X-Line-Signature": line_signature(body, secret),
        },
    )


def slack_dm_request(
    text: str, *, user_id: str, event_id: str, secret: str, retry: int = 0
) -> Request:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": f"D{user_id}",
                "channel_type": "im",
                "user": user_id,
                "text": text,
                "ts": f"{time.time():.6f}",
            },
        },
        ensure_ascii=False,
    ).encode()
    ts = str(int(time.time()))
    sig = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
    }
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return "/slack/events", body, headers


def send(base: str, request: Request, *, timeout: float = 30) -> tuple[int | None, str | None]:
    """(status, error) of one POST on a fresh connection."""
    parts = urlsplit(base)
    path, body, headers = request
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers=headers)
        res = conn.getresponse()
        res.read()
        return res.status, None
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


@dataclass
class Run:
    """Everything sent (for the stub's cross-check) and what fell inside the measured window."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)  # over every request sent
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def summary(self) -> dict[str, Any]:
        return {
            "per_s": round(self.per_s, 1),
            "p50_ms": round(percentile(self.latencies_ms, 50), 2),
            "p95_ms": round(p95(self.latencies_ms), 2),
            "sent": sum(self.statuses.values()),
            "statuses": dict(self.statuses),
            "errors": dict(self.errors),
        }


def hammer(
    base: str,
    make: Callable[[int], Request],
    *,
    clients: int,
    seconds: float,
    warmup: float,
) -> Run:
    """`clients` threads posting back to back for warmup + seconds; the first `warmup` seconds
    and anything finishing after the window are sent but not measured."""
    counter = itertools.count()
    lock = threading.Lock()
    run = Run(seconds)
    ready = threading.Barrier(clients + 1)
    window: list[float] = []

    def worker() -> None:
        ready.wait()
        lo, hi = window
        while time.perf_counter() < hi:
            request = make(next(counter))
            t0 = time.perf_counter()
            status, error = send(base, request)
            t1 = time.perf_counter()
            with lock:
                run.statuses[str(status)] += 1
                if error:
                    run.errors[error.split(":")[0]] += 1
                elif lo <= t0 and t1 <= hi:
                    run.latencies_ms.append((t1 - t0) * 1000)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    window.extend([start + warmup, start + warmup + seconds])
    ready.wait()
    for t in threads:
        t.join()
    return run
