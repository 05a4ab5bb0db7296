"""One send attempt and what its failure means: accepted after all, retry later, or give up.

Retries are not waited for in-process: a failed batch goes back to the outbox with its next
attempt time (exponential backoff, at least `Retry-After`), so the wait costs no thread and a
test moves the clock instead of sleeping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from linebot.v3.messaging import ApiException
from slack_sdk.errors import SlackApiError, SlackRequestError
from urllib3.exceptions import HTTPError as Urllib3Error

from bot.senders import Notice, Sender

log = logging.getLogger(__name__)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=30)
RETRY_AFTER_MAX = timedelta(hours=1)  # a Retry-After beyond this is treated as this
SLACK_TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


@dataclass(frozen=True)
class Batch:
    """One push: the outbox rows of one address packed together, sent under one key."""

    key: str  # also LINE's X-Line-Retry-Key
    platform: str
    address: str
    attempt: int
    since: datetime  # when the earliest row was due: where an in-doubt check looks from
    notices: tuple[Notice, ...]
    rows: int


@dataclass(frozen=True)
class Outcome:
    sent: bool
    retry: bool = False
    error: str = ""
    retry_after: timedelta | None = None

    def delay(self, attempt: int) -> timedelta:
        backoff = min(BACKOFF_BASE * 2 ** max(attempt - 1, 0), BACKOFF_MAX)
        return max(backoff, min(self.retry_after or timedelta(0), RETRY_AFTER_MAX))


SENT = Outcome(sent=True)


def attempt_send(sender: Sender | None, batch: Batch) -> Outcome:
    if sender is None:
        return Outcome(sent=False, error=f"no sender for {batch.platform} (is it configured?)")
    try:
        if batch.attempt > 1 and sender.already_sent(batch.address, batch.key, since=batch.since):
            log.info("push %s was delivered before its result was recorded", batch.key)
            return SENT
        sender.send_many(batch.address, batch.notices, retry_key=batch.key)
        return SENT
    except Exception as exc:  # every failure is classified and recorded, none is dropped
        return classify(exc)


def classify(exc: Exception) -> Outcome:
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        text = f"LINE {status} {exc.reason or ''}: {_short(exc.body)}"
        transient = status in (0, 429) or status >= 500
        return Outcome(False, transient, text, _retry_after(exc.headers))
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        error = str(response.get("error") if hasattr(response, "get") else "") or "error"
        transient = status == 429 or status >= 500 or error in SLACK_TRANSIENT
        return Outcome(False, transient, f"Slack {status} {error}", _retry_after(response.headers))
    if isinstance(exc, TimeoutError | OSError | Urllib3Error | SlackRequestError):
        # Maybe accepted, maybe not: the retry goes under the same key, so it is safe either way.
        return Outcome(False, True, f"{type(exc).__name__}: {exc}")
    log.exception("unexpected error while sending", exc_info=exc)
    return Outcome(False, True, f"{type(exc).__name__}: {exc}")


def _retry_after(headers: Any) -> timedelta | None:
    if not headers:
        return None
    value = None
    for name in ("Retry-After", "retry-after"):
        found = headers.get(name) if hasattr(headers, "get") else None
        if isinstance(found, list):
            found = found[0] if found else None
        if found:
            value = str(found)
            break
    if value is None:
        return None
    if value.strip().isdigit():
        return timedelta(seconds=int(value))
    try:  # an HTTP date
        return max(parsedate_to_datetime(value) - datetime.now(UTC), timedelta(0))
    except (TypeError, ValueError):
        return None


def _short(body: Any) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return text[:300]
