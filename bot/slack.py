"""Slack through slack-bolt's Flask adapter: Bolt verifies and acks, we dedupe and answer."""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import Executor
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.inbound import DatabaseUnavailable, Inbound
from bot.render_slack import ACTION_PREFIX, to_blocks, to_slack_message
from handlers.messages import Incoming

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@[A-Z0-9]+>")


def slack_client(api_url: str, token: str) -> WebClient:
    return WebClient(token=token, base_url=api_url)


def slack_blueprint(
    *, signing_secret: str, client: WebClient, inbound: Inbound, executor: Executor | None = None
) -> Blueprint:
    bolt = build_bolt_app(
        signing_secret=signing_secret, client=client, inbound=inbound, executor=executor
    )
    handler = SlackRequestHandler(bolt)
    bp = Blueprint("slack", __name__)

    @bp.post("/slack/events")
    def events() -> Response | tuple[Response, int]:
        if not _plausible_body():
            return jsonify(error="expected a JSON object or a form body"), 400
        try:  # (harden) Bolt acknowledges before its listener runs: check the database first
            inbound.check_available()
        except DatabaseUnavailable:
            return jsonify(error="database unavailable, please retry"), 503
        try:
            return handler.handle(request)
        except Exception:
            # Bolt parses the body before checking the signature; odd bodies raise in there.
            log.warning("Slack request refused: body could not be processed", exc_info=True)
            return jsonify(error="malformed request"), 400

    return bp


def _plausible_body() -> bool:
    """The shapes Bolt can digest: a JSON object (Events API) whose `event` is an object, or a
    form body (slash commands) whose optional `payload` (buttons) is a JSON object.

    Bolt parses before it verifies, and a body of another shape raises inside it or becomes its
    500; refusing such bodies here keeps them a 400. The signature is still checked by Bolt.
    """
    # Read the raw body first: touching request.form would consume it before Bolt sees it.
    raw = request.get_data(as_text=True)
    try:
        if request.mimetype == "application/x-www-form-urlencoded":
            payload = parse_qs(raw).get("payload")
            return payload is None or isinstance(json.loads(payload[0]), dict)
        if request.mimetype != "application/json":
            return False
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: JSON nested a thousand deep
        return False
    if not isinstance(body, dict) or not isinstance(body.get("type", ""), str):
        return False
    event = body.get("event", {})
    # Bolt's matchers compare event["type"] with strings and raise on anything else.
    return isinstance(event, dict) and isinstance(event.get("type", ""), str)


def build_bolt_app(
    *, signing_secret: str, client: WebClient, inbound: Inbound, executor: Executor | None
) -> App:
    bolt = App(
        client=client,
        signing_secret=signing_secret,
        # No network call while the web app starts; the token is checked on first use.
        token_verification_enabled=False,
        listener_executor=executor,
    )

    @bolt.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("subtype") or event.get("bot_id") or event.get("channel_type") != "im":
            return  # edits, bot posts and channel chatter are not for us
        _answer(inbound, client, event, body.get("event_id"), thread=False)

    @bolt.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        _answer(inbound, client, event, body.get("event_id"), thread=True)

    @bolt.action(re.compile(f"^{ACTION_PREFIX}"))
    def on_button(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if not channel or not user:
            return
        incoming = Incoming("slack", user, str(action.get("value", "")), chat_id=channel)
        reply = inbound.handle(incoming, event_id=f"action:{user}:{action.get('action_ts')}")
        if reply is None:
            return
        if reply.private and not channel.startswith("D"):
            _post_private(client, channel, user, reply_payload=to_slack_message(reply))
        else:
            _post(client, channel, reply_payload=to_slack_message(reply))

    @bolt.command("/renkei")
    def on_slash(ack: Any, command: dict[str, Any], respond: Any) -> None:
        ack()  # within Slack's 3 seconds; the answer follows through response_url
        user, channel = command.get("user_id"), command.get("channel_id")
        if not isinstance(user, str):
            return
        chat_id = None if str(channel).startswith("D") else channel
        text = str(command.get("text") or "").strip() or "ヘルプ"
        reply = inbound.handle(
            Incoming("slack", user, text, chat_id=chat_id),
            event_id=f"command:{command.get('trigger_id')}",
        )
        if reply is not None:
            # A slash command's answer is for the one who typed it.
            respond(response_type="ephemeral", replace_original=False, **to_slack_message(reply))

    @bolt.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str):
            return
        reply = inbound.handle(Incoming("slack", user, "予定"))
        if reply is not None:
            try:
                client.views_publish(
                    user_id=user, view={"type": "home", "blocks": to_blocks(reply)}
                )
            except SlackApiError as exc:
                log.error("Slack views.publish failed: %s", exc.response.get("error"))

    @bolt.event(re.compile(".*"))
    def ignore_other_events() -> None:
        """Every other event is acknowledged with 200, so Slack does not retry it."""

    return bolt


def _answer(
    inbound: Inbound,
    client: WebClient,
    event: dict[str, Any],
    event_id: str | None,
    *,
    thread: bool,
) -> None:
    user, channel = event.get("user"), event.get("channel")
    if not isinstance(user, str) or not isinstance(channel, str) or not isinstance(event_id, str):
        return
    text = MENTION.sub("", str(event.get("text") or "")).strip()
    is_dm = event.get("channel_type") == "im"
    incoming = Incoming("slack", user, text, chat_id=None if is_dm else channel)
    reply = inbound.handle(incoming, event_id=event_id)
    if reply is None:
        return
    payload = to_slack_message(reply)
    if thread:
        payload["thread_ts"] = event.get("thread_ts") or event.get("ts")
    if reply.private and not is_dm:
        _post_private(client, channel, user, reply_payload=payload)
    else:
        _post(client, channel, reply_payload=payload)


def _post_private(
    client: WebClient, channel: str, user: str, *, reply_payload: dict[str, Any]
) -> None:
    """Only the sender sees it: their own list, codes, contact details."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, **reply_payload)
    except SlackApiError as exc:
        log.error("Slack chat.postEphemeral failed: %s", exc.response.get("error"))


def _post(client: WebClient, channel: str, *, reply_payload: dict[str, Any]) -> None:
    try:
        client.chat_postMessage(channel=channel, **reply_payload)
    except SlackApiError as exc:
        log.error("Slack chat.postMessage failed: %s", exc.response.get("error"))
