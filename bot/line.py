"""LINE webhook: verify the signature once, model each event on its own with line-bot-sdk v3,
turn it into an `Incoming` (or a lifecycle call), reply by token.

An event the SDK cannot model (a new type, an older payload shape) is logged by its type and
skipped: the other events of the body still get their answers, and a validly signed body is
always acknowledged with 200 (LINE would otherwise redeliver it forever).
"""

from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import Executor
from typing import Any

from flask import Blueprint, Response, jsonify, request
from linebot.v3 import SignatureValidator
from linebot.v3.messaging import ApiException, MessagingApi
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    GroupSource,
    JoinEvent,
    LeaveEvent,
    MessageEditedEvent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    TextMessageContent,
    UnfollowEvent,
    UserMentionee,
)

from bot.inbound import Action, DatabaseUnavailable, Inbound
from bot.render_line import MAX_MESSAGES, line_messages
from bot.senders import line_api as line_api  # its home is the senders; kept here for callers
from handlers import chat_events
from handlers.messages import Incoming, Reply
from handlers.privacy import PRIVATE_NOTE

log = logging.getLogger(__name__)


def line_blueprint(
    *, channel_secret: str, api: MessagingApi, inbound: Inbound, replies: Executor
) -> Blueprint:
    """`replies`: where answers are sent from, once the event is applied and committed. The
    200 does not wait for LINE's API (LINE asks bots to answer webhooks promptly), and a slow
    API round trip does not hold a web worker, as Bolt's listener threads do for Slack."""
    validator = SignatureValidator(channel_secret)
    bp = Blueprint("line", __name__)

    @bp.post("/line/webhook")
    def webhook() -> tuple[Response, int]:
        signature = request.headers.get("X-Line-Signature")
        if not signature:
            return jsonify(error="missing X-Line-Signature"), 400
        body = request.get_data(as_text=True)
        if not validator.validate(body, signature):
            log.warning("LINE webhook with a wrong signature refused")
            return jsonify(error="invalid signature"), 400
        try:
            for raw in _raw_events(body):
                said = _said(raw)
                if said is not None:
                    _answer(*said, api, inbound, replies)
                    continue
                event = _model(raw)
                if event is not None:
                    _handle(event, api, inbound, replies)
        except DatabaseUnavailable:  # (harden) LINE redelivers; applied events are skipped then
            return jsonify(error="database unavailable, please redeliver"), 503
        return jsonify(status="ok"), 200

    return bp


def _raw_events(body: str) -> list[Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        # Signed by LINE but no events list: nothing to apply, and nothing to redeliver.
        log.warning("LINE webhook: a signed body without an events list; acknowledged")
        return []
    return events


def _said(raw: Any) -> tuple[str, Incoming, str] | None:
    """(event id, what was said, reply token) for the events people send all day, a text
    message without mentions and a postback, read from the JSON as LINE documents it; None for
    anything else or anything odd, which the SDK's models take (pydantic validation for
    every message, which plain dicts do not need). Strings are checked, never assumed."""
    if not isinstance(raw, dict) or raw.get("type") not in ("message", "postback"):
        return None
    event_id, token, source = raw.get("webhookEventId"), raw.get("replyToken"), raw.get("source")
    if not (isinstance(event_id, str) and isinstance(token, str) and isinstance(source, dict)):
        return None
    user_id, kind = source.get("userId"), source.get("type")
    chat_id = source.get("groupId") if kind == "group" else source.get("roomId")
    if not isinstance(user_id, str) or kind not in ("user", "group", "room"):
        return None
    if kind != "user" and not isinstance(chat_id, str):
        return None
    if kind == "user":
        chat_id = None
    if raw["type"] == "postback":
        data = (
            raw.get("postback", {}).get("data") if isinstance(raw.get("postback"), dict) else None
        )
        if not isinstance(data, str):
            return None
        return event_id, Incoming("line", user_id, data, chat_id=chat_id), token
    message = raw.get("message")
    if not isinstance(message, dict) or message.get("type") != "text" or "mention" in message:
        return None
    text = message.get("text")
    if not isinstance(text, str):
        return None
    incoming = Incoming("line", user_id, text, chat_id=chat_id, addressed=chat_id is None)
    return event_id, incoming, token


def _answer(
    event_id: str,
    incoming: Incoming,
    token: str | None,
    api: MessagingApi,
    inbound: Inbound,
    replies: Executor,
) -> None:
    """Run what a person said and send the answer (a private one in a group goes to them)."""
    reply = inbound.handle(incoming, event_id=event_id)
    if reply is not None and token:
        private_to = incoming.user_id if reply.private and incoming.chat_id else None
        replies.submit(_send_reply, api, token, reply, event_id, private_to)


def _model(raw: Any) -> Event | None:
    """The SDK's model of one event, or None (logged with its type only: the rest of an event
    may hold what people wrote)."""
    kind = raw.get("type") if isinstance(raw, dict) else None
    try:
        event = Event.from_dict(raw) if isinstance(raw, dict) else None
    except Exception:  # pydantic's ValidationError, ValueError for an unknown type, and others
        event = None
    if event is None:
        log.warning("LINE event of type %.40r could not be modelled; skipped", kind)
    return event


def _handle(event: Event, api: MessagingApi, inbound: Inbound, replies: Executor) -> None:
    event_id = event.webhook_event_id
    incoming = to_incoming(event)
    if isinstance(event, MessageEvent | PostbackEvent) and incoming is not None:
        # what people say: a command (with a mention, or a shape `_said` left to the SDK)
        _answer(event_id, incoming, getattr(event, "reply_token", None), api, inbound, replies)
        return
    action = _action(event, inbound)
    if action is None:
        return
    try:
        reply = inbound.once("line", event_id, action)
    except DatabaseUnavailable:  # (harden) not applied: the webhook answers 503
        raise
    except Exception:
        # The event is acknowledged with the rest of the body; the log says what was lost.
        log.exception("could not apply LINE %s event %s", event.type, event_id)
        return
    token = getattr(event, "reply_token", None)
    if reply is not None and token:
        # In a group, a private answer goes to the person alone (see handlers/privacy.py).
        private_to = getattr(event.source, "user_id", None) if reply.private else None
        replies.submit(
            _send_reply, api, token, reply, event_id, private_to if _chat_id(event) else None
        )


def _action(event: Event, inbound: Inbound) -> Action | None:
    """What the event does inside its transaction, or None when it concerns the bot not at all
    (member joins and leaves, unsent messages, beacons: quiet)."""
    group = _chat_id(event)
    if isinstance(event, JoinEvent) and group:
        return lambda session, now: chat_events.joined_group(group)
    if isinstance(event, LeaveEvent) and group:
        return lambda session, now: chat_events.left_group(session, platform="line", chat_id=group)
    user_id = getattr(event.source, "user_id", None)
    if not user_id:
        return None
    if isinstance(event, UnfollowEvent):
        return lambda session, now: chat_events.unfollowed(
            session, platform="line", user_id=user_id, now=now
        )
    incoming = to_incoming(event)
    if isinstance(event, FollowEvent) and incoming is not None:
        return lambda session, now: chat_events.followed(session, incoming, now=now, tz=inbound.tz)
    if isinstance(event, MessageEditedEvent) and isinstance(event.message, TextMessageContent):
        edit = _text_incoming(event.message, user_id, group)
        return lambda session, now: chat_events.edited(session, edit)
    if isinstance(event, MessageEvent):  # not text: commands went to inbound.handle
        not_text = Incoming("line", user_id, "", chat_id=group)
        return lambda session, now: chat_events.not_text(not_text)
    return None


def _send_reply(
    api: MessagingApi, reply_token: str, reply: Reply, event_id: str, private_to: str | None
) -> None:
    """Answer by token; a private answer in a group goes to the person by push, and the group
    gets a one-line note instead."""
    try:
        if private_to:
            _post(
                api,
                "/v2/bot/message/push",
                {"to": private_to, "messages": line_messages(reply)[:MAX_MESSAGES]},
                # One key per event: a push repeated after a lost answer is shown once.
                retry_key=str(uuid.uuid5(uuid.NAMESPACE_URL, f"line-event:{event_id}")),
            )
            messages: list[dict[str, Any]] = [{"type": "text", "text": PRIVATE_NOTE}]
        else:
            messages = line_messages(reply)
        _post(api, "/v2/bot/message/reply", {"replyToken": reply_token, "messages": messages})
    except ApiException as exc:
        # The reply token is single-use and short-lived; nothing to retry. Say so in the log.
        log.error("LINE reply failed: status %s, body %s", exc.status, exc.body)
    except Exception:
        # The event is already applied and acknowledged: a failed answer is logged, not raised
        # (a thread of the pool; there is no request left to fail).
        log.exception("LINE reply failed for event %s", event_id)


def _post(
    api: MessagingApi, path: str, body: dict[str, Any], *, retry_key: str | None = None
) -> None:
    """POST `body` (the JSON LINE documents) through the SDK's own client: its endpoint, token,
    pool and ApiException. The SDK's request models are skipped: with the event models, the
    pydantic work was about a tenth of a message's CPU under cProfile."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if retry_key:
        headers["X-Line-Retry-Key"] = retry_key
    api.api_client.call_api(
        path,
        "POST",
        header_params=headers,
        body=body,
        auth_settings=["Bearer"],
        response_types_map={},
        _preload_content=False,  # the answer's body (sent message ids) is not used
    )


def _chat_id(event: Event) -> str | None:
    source = event.source
    if isinstance(source, GroupSource):
        return source.group_id
    if isinstance(source, RoomSource):
        return source.room_id
    return None


def to_incoming(event: Event) -> Incoming | None:
    user_id = getattr(event.source, "user_id", None)
    if user_id is None:
        return None
    chat_id = _chat_id(event)
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        return _text_incoming(event.message, user_id, chat_id)
    if isinstance(event, PostbackEvent):
        return Incoming("line", user_id, event.postback.data, chat_id=chat_id)
    if isinstance(event, FollowEvent):  # a new friend gets help, or how to register
        return Incoming("line", user_id, "ヘルプ", chat_id=chat_id)
    return None


def _text_incoming(message: TextMessageContent, user_id: str, chat_id: str | None) -> Incoming:
    text, mentioned = _strip_mentions(message)
    return Incoming("line", user_id, text, chat_id=chat_id, addressed=chat_id is None or mentioned)


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
