"""Signed LINE text events per second through Renkei's whole path, against a bare endpoint that
only checks the signature: the same gunicorn, the same client, the same 20 concurrent clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bench.client import Request, hammer, line_text_request
from bench.databases import RESULTS, Database
from bench.figures import ratio, rounded
from bench.servers import Stub, gunicorn, stub
from storage.db import make_engine, make_session_factory
from storage.models import Agreement, AgreementContact, ChatIdentity, Contact

LINE_SECRET = "bench-line-channel-secret"
LINE_TOKEN = "bench-line-access-token"
SLACK_SECRET = "bench-slack-signing-secret"
SLACK_TOKEN = "xoxb-bench"
WORKERS = 2  # the Procfile's default WEB_CONCURRENCY
CLIENTS = 20


def app_env(database_url: str, stub_url: str, now: datetime) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "LINE_CHANNEL_SECRET": LINE_SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": LINE_TOKEN,
        "LINE_API_ENDPOINT": stub_url,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_API_URL": f"{stub_url}/api/",
        "BENCH_NOW": now.isoformat(),
    }


def liaisons(database_url: str, platform: str, *, limit: int) -> list[tuple[str, str]]:
    """(chat user id, one of their agreement keys) for everyday liaisons: 1-3 agreements."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            n = func.count(AgreementContact.agreement_id.distinct())
            rows = s.execute(
                select(ChatIdentity.external_id, func.min(Agreement.key))
                .join(Contact, Contact.id == ChatIdentity.contact_id)
                .join(AgreementContact, AgreementContact.contact_id == Contact.id)
                .join(Agreement, Agreement.id == AgreementContact.agreement_id)
                .where(ChatIdentity.platform == platform, Contact.active.is_(True))
                .group_by(ChatIdentity.external_id)
                .having(n.between(1, 3))
                .order_by(ChatIdentity.external_id)
                .limit(limit)
            )
            return [(user, key) for user, key in rows]
    finally:
        engine.dispose()


def chat_text(n: int, agreement_key: str) -> str:
    """A liaison's day: mostly asking what is due, often logging, sometimes the rest."""
    slot = n % 10
    if slot < 4:
        return "予定"
    if slot < 7:
        return f"活動 今日 防災訓練 参加者{10 + n % 90}名 協定:{agreement_key}"
    return ("今週", "履歴", "ヘルプ")[slot - 7]


def line_requests(users: list[tuple[str, str]], tag: str) -> Callable[[int], Request]:
    def make(n: int) -> Request:
        user, key = users[n % len(users)]
        return line_text_request(
            chat_text(n, key),
            user_id=user,
            event_id=f"{tag}-{n:08d}",
            reply_token=f"rt-{tag}-{n}",
            secret=LINE_SECRET,
        )

    return make


def run(db: Database, *, now: datetime, seconds: float, warmup: float, tag: str) -> dict[str, Any]:
    logs = RESULTS / "logs"
    users = liaisons(db.full, "line", limit=500)
    if not users:
        raise RuntimeError("no LINE liaison in the data set")
    make = line_requests(users, tag)
    with stub(logs / "stub.log") as api:
        env = app_env(db.full, api.url, now)
        with gunicorn("bench.wsgi:bare()", env, logs / "bare.log", workers=WORKERS) as url:
            bare = hammer(url, make, clients=CLIENTS, seconds=seconds, warmup=warmup)
        with gunicorn(
            "bench.wsgi:renkei()", env, logs / f"web-{db.kind}.log", workers=WORKERS
        ) as url:
            full = hammer(url, make, clients=CLIENTS, seconds=seconds, warmup=warmup)
        answered = _answered(api, full.statuses.get("200", 0))
    return {
        "webhook_ratio_vs_bare": rounded(ratio(full.per_s, bare.per_s), 3),
        "webhook_p95_ms": rounded(_p95(full.summary()), 1),
        "details": {
            "webhook_renkei": full.summary(),
            "webhook_bare": bare.summary(),
            "webhook_replies": answered,
            "webhook_server": f"gunicorn, {WORKERS} sync workers; {CLIENTS} concurrent clients",
        },
    }


def _p95(summary: dict[str, Any]) -> float:
    return float(summary["p95_ms"])


def _answered(api: Stub, ok: int) -> dict[str, Any]:
    stats = api.stats()
    return {
        "events_answered_200": ok,
        "replies_at_stub": stats.get("replies", 0),
        "reply_tokens_answered_twice": stats.get("reply_tokens_answered_twice", 0),
        "replies_apologising": stats.get("replies_apologising", 0),
    }
