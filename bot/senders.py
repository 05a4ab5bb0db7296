"""Outbound: one small protocol, one implementation per platform plus the local log.

`send` delivers one `Reply`; `send_many` delivers several notifications for one recipient as
one push (LINE) or one message (Slack). Both raise on failure; the deliverer decides whether to
retry. A send under a `retry_key` may be repeated safely: LINE recognises the key
(`X-Line-Retry-Key`, answered 409 once accepted), and for Slack the key travels in the
message metadata, so `already_sent` can look it up before a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    PushMessageRequest,
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.chart_links import chart_url
from bot.render_batch import to_line_batch, to_slack_batch
from bot.render_line import MAX_MESSAGES, to_line_messages
from bot.render_slack import to_slack_message
from handlers.messages import Reply

log = logging.getLogger(__name__)
SEND_TIMEOUT = 10.0  # seconds; a timed-out send is retried under the same key
METADATA_EVENT = "renkei_notification"


@dataclass(frozen=True)
class Notice:
    """One notification in a coalesced send; the chart, if any, is stored under `image_token`
    (LINE fetches it from the web app; Slack gets `reply.image_png` uploaded)."""

    reply: Reply
    image_token: str | None = None


class Sender(Protocol):
    """What the deliverer needs of a platform; every sender has all three."""

    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        """Deliver or raise; `retry_key` makes a repeated send of the same message harmless."""

    def send_many(self, recipient: str, notices: Sequence[Notice], *, retry_key: str) -> None:
        """Deliver several notifications as one push or message, or raise."""

    def already_sent(self, recipient: str, retry_key: str, *, since: datetime) -> bool:
        """Whether a send under `retry_key` is already shown (checked before a retry)."""


def line_api(endpoint: str, access_token: str) -> MessagingApi:
    return MessagingApi(ApiClient(Configuration(host=endpoint, access_token=access_token)))


class LineSender:
    def __init__(
        self, api: MessagingApi, *, public_base_url: str = "", timeout: float = SEND_TIMEOUT
    ) -> None:
        self.api, self.public_base_url, self.timeout = api, public_base_url, timeout

    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        self._push(recipient, to_line_messages(message)[:MAX_MESSAGES], retry_key)

    def send_many(self, recipient: str, notices: Sequence[Notice], *, retry_key: str) -> None:
        urls = [
            chart_url(self.public_base_url, n.image_token) if n.image_token else None
            for n in notices
        ]
        self._push(recipient, to_line_batch([n.reply for n in notices], urls), retry_key)

    def _push(self, recipient: str, messages: list[Any], retry_key: str | None) -> None:
        try:
            # X-Line-Retry-Key: LINE shows a push only once per key, however often it is sent.
            self.api.push_message(
                PushMessageRequest(to=recipient, messages=messages),
                x_line_retry_key=retry_key,
                _request_timeout=self.timeout,
            )
        except ApiException as exc:
            # The one place LINE's 409 is read: the retry key was accepted before.
            if exc.status == 409 and retry_key:
                log.info("LINE push %s was accepted before: not shown again", retry_key)
                return
            raise

    def already_sent(self, recipient: str, retry_key: str, *, since: datetime) -> bool:
        """LINE itself refuses a repeated retry key (409, above): the push is sent again."""
        return False


class SlackSender:
    def __init__(self, client: WebClient, *, public_base_url: str = "") -> None:
        self.client, self.public_base_url = client, public_base_url

    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        self.client.chat_postMessage(channel=recipient, **to_slack_message(message))

    def send_many(self, recipient: str, notices: Sequence[Notice], *, retry_key: str) -> None:
        # The chart is an image block at the URL LINE fetches too: Slack fetches it from the
        # web process, which draws it then; the clock uploads and draws nothing.
        urls = [
            chart_url(self.public_base_url, n.image_token) if n.image_token else None
            for n in notices
        ]
        replies = [n.reply for n in notices]
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": retry_key}}
        try:
            self.client.chat_postMessage(
                channel=recipient, metadata=metadata, **to_slack_batch(replies, urls)
            )
        except SlackApiError as exc:
            # An image Slack could not fetch makes the message refused whole (nothing shown):
            # it goes again with links instead.
            if exc.response.get("error") != "invalid_blocks" or not any(urls):
                raise
            log.warning("Slack refused the chart image block; sending a link instead")
            linked = [
                # A bare address: Slack links it; markup would be escaped (render_slack).
                replace(r, items=(*r.items, f"グラフ（{r.image_alt or 'KPI'}）：{u}")) if u else r
                for r, u in zip(replies, urls, strict=True)
            ]
            self.client.chat_postMessage(
                channel=recipient,
                metadata=metadata,
                **to_slack_batch(linked, [None] * len(linked)),
            )

    def already_sent(self, recipient: str, retry_key: str, *, since: datetime) -> bool:
        """Whether a message with this key is already in the conversation (a send whose answer
        was lost, or a deliverer that stopped between sending and recording it)."""
        channel = recipient
        if recipient.startswith(("U", "W")):  # a person: their DM with the bot
            channel = self.client.conversations_open(users=recipient)["channel"]["id"]
        cursor = None
        for _ in range(10):  # bounded: a retry looks back minutes or hours, not weeks
            page = self.client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == METADATA_EVENT and payload.get("key") == retry_key:
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return False


class LocalSender:
    """For contacts without a linked chat account, and for the embedded mode: a log line.

    `keep`: also remember each message in `sent` (tests read it). A clock runs for months and
    must not: keeping every local notification was most of what the clock kept after each
    Monday at 10,000 agreements (its peak +28 MB from one Monday to the next before, +4 MB
    after; bench/RESULTS.md finding 16), so the clock builds it with `keep=False`."""

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.sent: list[tuple[str, Reply]] = []

    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        if self.keep:
            self.sent.append((recipient, message))
        # The text only at DEBUG: at INFO no log line carries what people wrote (harden).
        log.info("local message to %s (%d characters)", recipient, len(message.as_text()))
        log.debug("local message to %s: %s", recipient, message.as_text().replace("\n", " / "))

    def send_many(self, recipient: str, notices: Sequence[Notice], *, retry_key: str) -> None:
        for notice in notices:
            self.send(recipient, notice.reply, retry_key=retry_key)

    def already_sent(self, recipient: str, retry_key: str, *, since: datetime) -> bool:
        return False  # a log line: sending it again is harmless


def slack_sender_client(api_url: str, token: str, *, timeout: float = SEND_TIMEOUT) -> WebClient:
    """A client for pushes: no built-in retries, so the outbox alone decides (and knows) when a
    message is sent again."""
    return WebClient(
        token=token,
        base_url=api_url,
        timeout=timeout,
        retry_handlers=[],  # type: ignore[arg-type]
    )
