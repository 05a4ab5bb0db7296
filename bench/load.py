"""Load: 200 liaisons chatting through signed LINE and Slack webhooks, some redelivered, while
the clock delivers the Monday-morning digest; gunicorn with several workers on PostgreSQL.

Every event must be answered exactly once: replies are counted at the stub, per reply token
(LINE) and per event (Slack). Bounded in time; every request goes to 127.0.0.1.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from datetime import time as dtime
from typing import Any

from bench.client import Request, line_text_request, send, slack_dm_request
from bench.databases import RESULTS, Database
from bench.dataset import TOKYO, Spec
from bench.figures import p95, percentile
from bench.servers import Stub, gunicorn, stub
from bench.webhook import LINE_SECRET, SLACK_SECRET, app_env, chat_text, liaisons

LIAISONS = 200
SLACK_SHARE = 0.25  # company staff on Slack, municipal staff on LINE (domain.md)
WORKERS = 4
THINK_S = (1.0, 4.0)  # seconds between one liaison's messages
REDELIVERY = 0.03  # share of events the platform sends twice


def run(db: Database, spec: Spec, *, seconds: float, tag: str) -> dict[str, Any]:
    n_slack = int(LIAISONS * SLACK_SHARE)
    line_users = liaisons(db.full, "line", limit=LIAISONS - n_slack)
    slack_users = liaisons(db.full, "slack", limit=n_slack)
    people = [("line", u) for u in line_users] + [("slack", u) for u in slack_users]
    logs = RESULTS / "logs"
    monday = datetime.combine(spec.today, dtime(9, 0), TOKYO)
    with stub(logs / "stub-load.log") as api:
        env = app_env(db.full, api.url, monday)
        with gunicorn("bench.wsgi:renkei()", env, logs / "web-load.log", workers=WORKERS) as url:
            clock = _start_digest(db, api, monday, seconds)
            shots = _chat(url, people, seconds=seconds, tag=tag)
            digest = _finish_digest(clock)
        stats = _settled(api)
    return _summary(shots, stats, digest, seconds, len(people))


class _Shots:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.line_events: set[str] = set()
        self.slack_events: set[str] = set()
        self.redelivered = 0


def _chat(
    url: str, people: list[tuple[str, tuple[str, str]]], *, seconds: float, tag: str
) -> _Shots:
    shots = _Shots()
    deadline = time.perf_counter() + seconds

    def liaison(i: int, platform: str, user: str, key: str) -> None:
        rng = random.Random(i)  # each liaison's rhythm is reproducible
        time.sleep(rng.uniform(0, THINK_S[1]))  # they do not all start on the same second
        n = 0
        while time.perf_counter() < deadline:
            event_id = f"load-{tag}-{i}-{n}"
            text = chat_text(rng.randrange(10), key)
            request = _request(platform, text, user, event_id)
            _post(url, request, shots, platform, event_id)
            if rng.random() < REDELIVERY:  # the platform did not see our 200 and tries again
                again = _request(platform, text, user, event_id, retry=1)
                _post(url, again, shots, platform, None)
                with shots.lock:
                    shots.redelivered += 1
            n += 1
            time.sleep(rng.uniform(*THINK_S))

    threads = [
        threading.Thread(target=liaison, args=(i, platform, user, key), daemon=True)
        for i, (platform, (user, key)) in enumerate(people)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return shots


def _request(platform: str, text: str, user: str, event_id: str, retry: int = 0) -> Request:
    if platform == "line":
        return line_text_request(
            text, user_id=user, event_id=event_id, reply_token=f"rt-{event_id}", secret=LINE_SECRET
        )
    return slack_dm_request(text, user_id=user, event_id=event_id, secret=SLACK_SECRET, retry=retry)


def _post(url: str, request: Request, shots: _Shots, platform: str, event_id: str | None) -> None:
    t0 = time.perf_counter()
    status, error = send(url, request)
    ms = (time.perf_counter() - t0) * 1000
    with shots.lock:
        shots.latencies.append(ms)
        shots.statuses[str(status) if error is None else error.split(":")[0]] += 1
        if status == 200 and event_id is not None:
            (shots.line_events if platform == "line" else shots.slack_events).add(event_id)


def _start_digest(
    db: Database, api: Stub, monday: datetime, seconds: float
) -> subprocess.Popen[bytes]:
    """The clock, in its own process: Monday's 08:55 tick, then delivery, during the load."""
    cfg = {
        "mode": "digest",
        "urls": {"full": db.full},
        "stub": api.url,
        "plan_now": monday.replace(hour=8, minute=55).isoformat(),
        "deliver_budget_s": seconds,
    }
    path = RESULTS / "clock-load-config.json"
    path.write_text(json.dumps(cfg))
    out = RESULTS / "clock-load.json"
    out.unlink(missing_ok=True)
    with (RESULTS / "logs" / "clock-load.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.clock_bench", str(path), str(out)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _finish_digest(proc: subprocess.Popen[bytes], grace_s: float = 10) -> dict[str, Any]:
    """Give the clock a few seconds after the chat ends, then stop it: what it did is saved."""
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait()
    out = RESULTS / "clock-load.json"
    return json.loads(out.read_text()) if out.exists() else {"error": "the clock wrote nothing"}


def _settled(api: Stub, quiet_s: float = 1.0, limit_s: float = 15.0) -> dict[str, Any]:
    """Slack answers from Bolt's listener threads after the ack: wait until the stub is quiet."""
    deadline = time.monotonic() + limit_s
    last = api.stats()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = api.stats()
        if now == last:
            break
        last = now
    return last


def _summary(
    shots: _Shots, stats: dict[str, Any], digest: dict[str, Any], seconds: float, people: int
) -> dict[str, Any]:
    errors = sum(n for s, n in shots.statuses.items() if s != "200")
    line_replies = int(stats.get("replies", 0))
    slack_posts = int(stats.get("slack_dm_posts", 0))  # answers; the digest posts to channels
    return {
        "summary": {
            "liaisons": people,
            "seconds": seconds,
            "requests": len(shots.latencies),
            "requests_per_s": round(len(shots.latencies) / seconds, 1),
            "p50_ms": round(percentile(shots.latencies, 50), 1),
            "p95_ms": round(p95(shots.latencies), 1),
            "errors": errors,
            "http_500": shots.statuses.get("500", 0),
            "line_events": len(shots.line_events),
            "line_replies": line_replies,
            "line_reply_tokens_answered_twice": stats.get("reply_tokens_answered_twice", 0),
            "slack_events": len(shots.slack_events),
            "slack_posts": slack_posts,
            "redeliveries_sent": shots.redelivered,
            "every_event_answered_once": (
                errors == 0
                and line_replies == len(shots.line_events)
                and stats.get("reply_tokens_answered_twice", 0) == 0
                and slack_posts == len(shots.slack_events)
            ),
            "apologies": stats.get("replies_apologising", 0)
            + stats.get("slack_posts_apologising", 0),
            "digest_rows_planned": digest.get("details", {}).get("digest_planned_rows"),
            "digest_plan_s": digest.get("details", {}).get("digest_plan_s"),
            "digest_rows_delivered": digest.get("deliver_rows_sent"),
            "digest_note": digest.get("pending")
            or digest.get("error")
            or (
                None
                if "digest_plan_s" in digest.get("details", {})
                else "the clock was still planning Monday's digests when the load ended"
            ),
        },
        "statuses": dict(shots.statuses),
        "stub": stats,
        "workers": f"gunicorn, {WORKERS} sync workers",
    }
