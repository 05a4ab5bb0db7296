"""Test helpers: real signatures, a settable clock, an executor we can wait on, transcripts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from handlers.messages import Incoming, Reply
from storage.db import transaction
from storage.models import Agreement, ChatIdentity, Contact

LINE_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"  # LINE's documented test vector secret
LINE_TOKEN = "line-test-access-token"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documented example secret
SLACK_TOKEN = "xoxb-test-token"


def line_signature(body: str, secret: str = LINE_SECRET) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def slack_headers(
    body: str, *, timestamp: int | None = None, secret: str = SLACK_SECRET
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


@dataclass
class Clock:
    """The time the app believes it is; tests move it, nothing sleeps."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RecordingExecutor:
    """Bolt's listener executor, but one a test can wait on instead of sleeping."""

    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=4))
    futures: list[Future[Any]] = field(default_factory=list)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self.pool.submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future

    def drain(self, timeout: float = 10) -> None:
        done, pending = wait(self.futures, timeout=timeout)
        assert not pending, "listener threads did not finish"
        for f in done:
            f.result()
        self.futures.clear()

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:
        self.pool.shutdown(wait=wait)


def line_text_event(
    text: str,
    *,
    user_id: str,
    event_id: str,
    reply_token: str = "rt-1",
    group_id: str | None = None,
    mention_self: bool = False,
) -> dict[str, Any]:
    source: dict[str, Any] = {"type": "user", "userId": user_id}
    if group_id:
        source = {"type": "group", "groupId": group_id, "userId": user_id}
    message: dict[str, Any] = {
        "type": "text",
        "id": "468789577898262530",
        "quoteToken": "q",
        "text": text,
    }
    if mention_self:
        message["mention"] = {
            "mentionees": [
                {"index": 0, "length": 7, "type": "user", "userId": "Ubot", "isSelf": True}
            ]
        }
    return {
        "type": "message",
        "mode": "active",
        "timestamp": 1700000000000,
        "source": source,
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        "message": message,
    }


def line_body(*events: dict[str, Any]) -> str:
    return json.dumps(
        {"destination": "Ubotdestination", "events": list(events)}, ensure_ascii=False
    )


def post_line(client: Any, body: str, signature: str | None = None) -> Any:
    """Post to the LINE webhook, then wait until the replies it started have been sent."""
    headers = {"Content-Type": "application/json"}
    headers["X-Line-Signature"] = line_signature(body) if signature is None else signature
    response = client.post("/line/webhook", data=body.encode(), headers=headers)
    replies = client.application.extensions["renkei"].line_replies
    if isinstance(replies, RecordingExecutor):
        replies.drain()
    return response


def slack_event_body(event: dict[str, Any], *, event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1700000000,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            "event": event,
        },
        ensure_ascii=False,
    )


def post_slack(
    client: Any,
    body: str,
    *,
    timestamp: int | None = None,
    extra: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Any:
    headers = {
        "Content-Type": content_type,
        **slack_headers(body, timestamp=timestamp),
        **(extra or {}),
    }
    return client.post("/slack/events", data=body.encode(), headers=headers)


def link_account(app: Flask, platform: str, contact_key: str, external_id: str) -> None:
    """Link a chat account to a contact, as a redeemed invite code would."""
    r = app.extensions["renkei"]
    with transaction(r.sessions) as s:
        contact = s.scalar(select(Contact).where(Contact.key == contact_key))
        assert contact is not None
        s.add(
            ChatIdentity(
                platform=platform,
                external_id=external_id,
                contact_id=contact.id,
                linked_at=r.clock(),
            )
        )


def say(app: Flask, contact_key: str, text: str) -> Reply:
    """What the bot answers `contact_key` in the local channel."""
    reply = app.extensions["renkei"].inbound.handle(Incoming("local", contact_key, text))
    assert reply is not None
    return reply


def check_transcript(app: Flask, contact_key: str, transcript: str) -> None:
    """A dialogue as a chat log: `> text` is the liaison, other lines must appear in the answer.

    A line `!  text` says the fragment must NOT appear.
    """
    reply: Reply | None = None
    for raw in transcript.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(">"):
            reply = say(app, contact_key, line[1:].strip())
            continue
        assert reply is not None, "a transcript starts with what the liaison says"
        shown = reply.as_text()
        if line.startswith("!"):
            fragment = line[1:].strip()
            assert fragment not in shown, f"{fragment!r} should not be in:\n{shown}"
        else:
            assert re.search(re.escape(line).replace(r"\*", ".*"), shown), (
                f"{line!r} not in:\n{shown}"
            )


def tie_chat(app: Flask, platform: str, chat_id: str, *agreement_keys: str) -> None:
    """Make a LINE group / Slack channel the agreements' own (their line_group / slack_channel):
    answers about them may then be shown there (handlers/privacy.py)."""
    field = {"line": "line_group", "slack": "slack_channel"}[platform]
    with transaction(app.extensions["renkei"].sessions) as s:
        for key in agreement_keys:
            agreement = s.scalar(select(Agreement).where(Agreement.key == key))
            assert agreement is not None
            setattr(agreement, field, chat_id)
