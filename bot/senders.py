"""Outbound: one small protocol, one implementation per platform plus the local log."""

from __future__ import annotations

import logging
from typing import Protocol

from linebot.v3.messaging import MessagingApi, PushMessageRequest
from slack_sdk import WebClient

from bot.render_line import MAX_MESSAGES, to_line_messages
from bot.render_slack import to_slack_message
from handlers.messages import Reply

log = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        """Deliver or raise; `retry_key` makes a repeated send of the same message harmless."""


class LineSender:
    def __init__(self, api: MessagingApi) -> None:
        self.api = api

    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        # X-Line-Retry-Key: LINE shows a push only once per key, however often it is retried.
        self.api.push_message(
            PushMessageRequest(to=recipient, messages=to_line_messages(message)[:MAX_MESSAGES]),
            x_line_retry_key=retry_key,
        )


class SlackSender:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        self.client.chat_postMessage(channel=recipient, **to_slack_message(message))


class LocalSender:
    """For contacts without a linked chat account, and for the embedded mode: a log line."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Reply]] = []

    def send(self, recipient: str, message: Reply, *, retry_key: str | None = None) -> None:
        self.sent.append((recipient, message))
        log.info("local message to %s: %s", recipient, message.as_text().replace("\n", " / "))
