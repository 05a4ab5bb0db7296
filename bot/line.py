"""LINE webhook: verify with line-bot-sdk v3, turn events into `Incoming`, reply by token."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from flask import Blueprint, Response, jsonify, request
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    ReplyMessageRequest,
)
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    GroupSource,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UserMentionee,
)

from bot.inbound import DatabaseUnavailable, Inbound
from bot.render_line import to_line_messages
from handlers.messages import Incoming, Reply

log = logging.getLogger(__name__)


def line_api(endpoint: str, access_token: str) -> MessagingApi:
    return MessagingApi(ApiClient(Configuration(host=endpoint, access_token=access_token)))


def line_blueprint(
    *, channel_secret: str, api: MessagingApi, inbound: Inbound, replies: Executor
) -> Blueprint:
    """`replies`: where answers are sent from, once the event is applied and committed. The
    200 does not wait for LINE's API (LINE asks bots to answer webhooks promptly), and a slow
    API round trip does not hold a web worker, as Bolt's listener threads do for Slack."""
    parser = WebhookParser(channel_secret)
    bp = Blueprint("line", __name__)

    @bp.post("/line/webhook")
    def webhook() -> tuple[Response, int]:
        signature = request.headers.get("X-Line-Signature")
        if not signature:
            return jsonify(error="missing X-Line-Signature"), 400
        body = request.get_data(as_text=True)
        try:
            events = parser.parse(body, signature)
        except InvalidSignatureError:
            log.warning("LINE webhook with a wrong signature refused")
            return jsonify(error="invalid signature"), 400
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
            # Signed but not a webhook body; the SDK raises more than InvalidSignatureError.
            log.warning("LINE webhook: signed body of the wrong shape refused")
            return jsonify(error="malformed body"), 400
        try:
            for event in events:
                _handle(event, api, inbound, replies)
        except DatabaseUnavailable:  # (harden) LINE redelivers; applied events are skipped then
            return jsonify(error="database unavailable, please redeliver"), 503
        return jsonify(status="ok"), 200

    return bp


def _handle(event: Event, api: MessagingApi, inbound: Inbound, replies: Executor) -> None:
    incoming = to_incoming(event)
    reply_token = getattr(event, "reply_token", None)
    if incoming is None or not reply_token:
        return
    reply = inbound.handle(incoming, event_id=event.webhook_event_id)
    if reply is not None:
        replies.submit(_send_reply, api, reply_token, reply, event.webhook_event_id)


def _send_reply(api: MessagingApi, reply_token: str, reply: Reply, event_id: str) -> None:
    try:
        api.reply_message(
            ReplyMessageRequest(replyToken=reply_token, messages=to_line_messages(reply))
        )
    except ApiException as exc:
        # The reply token is single-use and short-lived; nothing to retry. Say so in the log.
        log.error("LINE reply failed: status %s, body %s", exc.status, exc.body)
    except Exception:
        # The event is already applied and acknowledged: a failed answer is logged, not raised
        # (a thread of the pool; there is no request left to fail).
        log.exception("LINE reply failed for event %s", event_id)


def to_incoming(event: Event) -> Incoming | None:
    source = event.source
    user_id = getattr(source, "user_id", None)
    if user_id is None:
        return None
    chat_id = None
    if isinstance(source, GroupSource):
        chat_id = source.group_id
    elif isinstance(source, RoomSource):
        chat_id = source.room_id
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        text, mentioned = _strip_mentions(event.message)
        return Incoming(
            "line", user_id, text, chat_id=chat_id, addressed=chat_id is None or mentioned
        )
    if isinstance(event, PostbackEvent):
        return Incoming("line", user_id, event.postback.data, chat_id=chat_id)
    if isinstance(event, FollowEvent):  # a new friend gets help, or how to register
        return Incoming("line", user_id, "ヘルプ", chat_id=chat_id)
    return None


def _strip_mentions(message: TextMessageContent) -> tuple[str, bool]:
    """The text without the bot's @mention, and whether the bot was mentioned."""
    text = message.text
    mentioned = False
    if message.mention and message.mention.mentionees:
        for m in sorted(message.mention.mentionees, key=lambda m: m.index, reverse=True):
            if isinstance(m, UserMentionee) and m.is_self:
                mentioned = True
                text = text[: m.index] + text[m.index + m.length :]
    return text, mentioned
