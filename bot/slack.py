"""Slack through slack-bolt's Flask adapter.

We check the signature before Bolt sees the request (Bolt parses first and logs refused bodies
in full). Bolt's listeners then claim and apply the event through `Inbound` inside the request,
and post the answer afterwards (`Outgoing`). Whatever a listener raises reaches `on_error`,
which chooses the HTTP status Slack gets: the one place for an outage's answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, jsonify, request
from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.error import BoltUnhandledRequestError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.inbound import DatabaseUnavailable, Inbound
from bot.render_slack import ACTION_PREFIX, home_view, to_slack_message
from bot.slack_text import SlackText, decode
from handlers.messages import Incoming, Reply
from storage.identities import contact_for

log = logging.getLogger(__name__)
TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Messages a person typed; other subtypes are joins, deletions, bot posts and the like.
TYPED = {None, "file_share", "thread_broadcast"}
EDIT_NOTE = (
    "メッセージの編集は反映されません（記録は編集前の内容のままです）。"
    "直すときは「取消」で取り消してから、正しい内容をもう一度送ってください。"
)
FILE_NOTE = "ファイルや画像の中身は読み取れません。文字で送ってください。例：「予定」「ヘルプ」"


def slack_client(api_url: str, token: str) -> WebClient:
    return WebClient(token=token, base_url=api_url)


def slack_blueprint(
    *,
    signing_secret: str,
    client: WebClient,
    inbound: Inbound,
    executor: Executor | None = None,
    team_id: str = "",
) -> Blueprint:
    verifier = SignatureVerifier(signing_secret)
    bolt = build_bolt_app(client=client, inbound=inbound, executor=executor, team_id=team_id)
    handler = SlackRequestHandler(bolt)
    bp = Blueprint("slack", __name__)

    @bp.post("/slack/events")
    def events() -> Response | tuple[Response, int]:
        refused = _unverified(verifier)
        if refused is not None:
            return refused
        if not _plausible_body():
            return jsonify(error="expected a JSON object or a form body"), 400
        try:
            return handler.handle(request)
        except Exception as exc:
            # A signed body Bolt cannot digest (e.g. an interactivity payload without
            # `actions`): acknowledged, so Slack neither retries nor shows an error. Logged by
            # kind and error type only, never the body.
            log.warning(
                "Slack %s could not be processed (%s): acknowledged",
                _kind(_parsed_body()),
                type(exc).__name__,
            )
            return Response(status=200)

    return bp


def _unverified(verifier: SignatureVerifier) -> tuple[Response, int] | None:
    """401 unless the Slack headers are present, well-formed and sign this body, within
    Slack's 5-minute window. Nothing of an unverified body is logged."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not TIMESTAMP.fullmatch(timestamp) or not signature:
        log.warning("Slack request refused: signature headers missing or malformed")
        return jsonify(error="invalid request"), 401
    try:
        valid = verifier.is_valid(request.get_data(), timestamp, signature)
    except UnicodeDecodeError:
        valid = False
    if not valid:
        log.warning("Slack request refused: signature invalid or older than 5 minutes")
        return jsonify(error="invalid request"), 401
    return None


def _plausible_body() -> bool:
    """The shapes Bolt can digest: a JSON object (Events API) whose `event` is an object, or a
    form body (slash commands) whose optional `payload` (interactivity) is a JSON object.

    Bolt raises or answers 500 on other shapes; refusing them here keeps them a 400.
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


def _parsed_body() -> dict[str, Any]:
    """The verified request as Bolt reads it: the JSON body, the payload or the form."""
    raw = request.get_data(as_text=True)
    if request.mimetype == "application/json":
        return json.loads(raw)
    fields = {k: v[0] for k, v in parse_qs(raw).items()}
    return json.loads(fields["payload"]) if "payload" in fields else fields


def _kind(body: dict[str, Any]) -> str:
    """What a request is, for logs: never its text."""
    if body.get("command"):
        return f"command {str(body['command'])[:40]}"
    event = body.get("event")
    if isinstance(event, dict):
        return f"event {event.get('type')}/{event.get('subtype') or '-'}"
    return str(body.get("type") or "request")[:40]


def build_bolt_app(
    *, client: WebClient, inbound: Inbound, executor: Executor | None, team_id: str = ""
) -> App:
    bolt = App(
        client=client,
        # No network call while the web app starts; the token is checked on first use.
        token_verification_enabled=False,
        # The blueprint verified the signature already, without logging refused bodies.
        request_verification_enabled=False,
        # Unmatched requests reach our error handler (a 200, logged by type) instead of a
        # 404 and a warning that prints the body.
        raise_error_for_unhandled_request=True,
        # Listeners run inside the request: an event is claimed and applied before Slack gets
        # its 200, so a failure (e.g. the database unreachable) can still answer an error and
        # Slack redelivers. Only the posting back to Slack runs later, on `out`'s threads.
        process_before_response=True,
        listener_executor=executor,
    )
    out = Outgoing(client, executor or ThreadPoolExecutor(4, thread_name_prefix="slack"))

    @bolt.use
    def same_workspace(context: BoltContext, body: dict[str, Any], next: Any) -> Any:
        """One workspace only: a request of another team is acknowledged and ignored.

        The expected team is SLACK_TEAM_ID, else the one `auth.test` named (Bolt calls it
        once and caches it). The request's team is the installation it was sent for (Bolt
        reads `authorizations` first): in a channel shared with another organisation the
        top-level `team_id` is the sender's workspace, and such events are ours to answer.
        """
        auth = context.authorize_result
        expected = team_id or (auth.team_id if auth is not None else None)
        if expected and context.team_id and context.team_id != expected:
            log.warning(
                "Slack %s for another workspace %s ignored", _kind(body), context.team_id[:40]
            )
            return BoltResponse(status=200, body="")
        return next()

    @bolt.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            # Shortcuts, view submissions, old buttons, suggestions: a 200, so Slack shows
            # no error and does not retry.
            log.info("Slack %s has no listener: acknowledged", _kind(body))
            return BoltResponse(status=200, body="")
        if isinstance(error, DatabaseUnavailable):  # (harden) the event was not applied:
            return BoltResponse(status=503, body="")  # Slack retries, applied once then
        # Our own bug: logged, and acknowledged rather than a 500 Slack would retry.
        log.error("Slack %s failed: %s", _kind(body), type(error).__name__, exc_info=error)
        return BoltResponse(status=200, body="")

    @bolt.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if event.get("channel_type") != "im" or _from_a_bot(event):
            return  # channel chatter is not for us (mentions come as app_mention)
        subtype = event.get("subtype")
        if subtype == "message_changed":
            _edited(inbound, out, event, body.get("event_id"))
        elif subtype in TYPED:
            _answer(inbound, out, event, body.get("event_id"), context.bot_user_id)

    @bolt.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if not _from_a_bot(event):
            _answer(inbound, out, event, body.get("event_id"), context.bot_user_id)

    @bolt.action(re.compile(f"^{ACTION_PREFIX}"))
    def on_button(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        if not isinstance(user, str):
            return
        incoming = Incoming("slack", user, str(action.get("value", "")), chat_id=channel)
        reply = inbound.handle(incoming, event_id=f"action:{user}:{action.get('action_ts')}")
        if reply is None:
            return
        if not channel:  # a button of the App Home: the answer goes to the app's DM
            out.post(user, to_slack_message(reply))
        elif reply.private and not channel.startswith("D"):
            out.post_private(channel, user, to_slack_message(reply))
        else:
            out.post(channel, to_slack_message(reply))

    @bolt.command("/renkei")
    def on_slash(ack: Any, command: dict[str, Any], context: BoltContext, respond: Any) -> None:
        ack()  # within Slack's 3 seconds; the answer follows through response_url
        user, channel = command.get("user_id"), command.get("channel_id")
        if not isinstance(user, str):
            return
        chat_id = None if str(channel).startswith("D") else channel
        text = _decoded(inbound, str(command.get("text") or ""), context.bot_user_id)
        reply = inbound.handle(
            Incoming("slack", user, text.text or "ヘルプ", chat_id=chat_id),
            event_id=f"command:{command.get('trigger_id')}",
        )
        if reply is not None:
            # A slash command's answer is for the one who typed it.
            message = to_slack_message(reply, note=_unknown_note(text.unknown_users))
            out.later(respond, response_type="ephemeral", replace_original=False, **message)

    @bolt.event("app_home_opened")
    def on_home(event: dict[str, Any]) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str):
            return
        reply = inbound.handle(Incoming("slack", user, "予定"))
        if reply is not None:
            out.later(client.views_publish, user_id=user, view=home_view(reply))

    @bolt.event(re.compile(".*"))
    def ignore_other_events() -> None:
        """Every other event is acknowledged with 200, so Slack does not retry it."""

    return bolt


def _from_a_bot(event: dict[str, Any]) -> bool:
    """Bots, ours or another app's, and Slackbot: answering them could loop."""
    edited = event.get("message") if isinstance(event.get("message"), dict) else {}
    return any(
        e.get("bot_id") or e.get("subtype") == "bot_message" or e.get("user") == "USLACKBOT"
        for e in (event, edited)
    )


def _decoded(inbound: Inbound, text: str, bot_user_id: str | None) -> SlackText:
    def contact_name(slack_user: str) -> str | None:
        try:
            with inbound.sessions() as session:
                contact = contact_for(session, platform="slack", external_id=slack_user)
                return contact.name if contact is not None else None
        except (OperationalError, InterfaceError) as exc:  # as Inbound.once: Slack retries
            raise DatabaseUnavailable from exc

    return decode(text, contact_name=contact_name, bot_user_id=bot_user_id)


def _unknown_note(unknown_users: tuple[str, ...]) -> str:
    """Who could not be resolved, as Slack markup: Slack shows `<@U…>` as that person's name."""
    if not unknown_users:
        return ""
    who = "、".join(f"<@{u}>" for u in unknown_users)
    return f"{who} さんは Renkei に登録されていません（担当者にできるのは登録済みの方です）。"


def _answer(
    inbound: Inbound,
    out: Outgoing,
    event: dict[str, Any],
    event_id: str | None,
    bot_user_id: str | None,
) -> None:
    user, channel = event.get("user"), event.get("channel")
    if not isinstance(user, str) or not isinstance(channel, str) or not isinstance(event_id, str):
        return
    is_dm = event.get("channel_type") == "im"
    text = _decoded(inbound, str(event.get("text") or ""), bot_user_id)
    # In a DM, a top-level message is answered top-level; a thread reply in its thread.
    thread_ts = event.get("thread_ts") or (None if is_dm else event.get("ts"))
    if not text.text:
        if event.get("subtype") == "file_share" and is_dm:
            _note(inbound, out, channel, thread_ts, event_id, FILE_NOTE)
        return
    incoming = Incoming("slack", user, text.text, chat_id=None if is_dm else channel)
    reply = inbound.handle(incoming, event_id=event_id)
    if reply is None:
        return
    payload = to_slack_message(reply, note=_unknown_note(text.unknown_users))
    if thread_ts:
        payload["thread_ts"] = thread_ts
    if reply.private and not is_dm:
        out.post_private(channel, user, payload)
    else:
        out.post(channel, payload)


def _edited(inbound: Inbound, out: Outgoing, event: dict[str, Any], event_id: str | None) -> None:
    """An edit changes nothing recorded; say so once. Link unfurls also arrive as
    `message_changed` (same text, attachments added): those stay silent."""
    new, old = event.get("message"), event.get("previous_message")
    channel = event.get("channel")
    if not isinstance(new, dict) or not isinstance(old, dict) or not isinstance(channel, str):
        return
    if not isinstance(event_id, str) or new.get("text") == old.get("text"):
        return
    _note(inbound, out, channel, new.get("thread_ts"), event_id, EDIT_NOTE)


def _note(
    inbound: Inbound,
    out: Outgoing,
    channel: str,
    thread_ts: str | None,
    event_id: str,
    text: str,
) -> None:
    """A one-line answer that writes nothing but its event id, so a retry stays quiet."""
    note = inbound.once("slack", event_id, lambda _session, _now: Reply(text))
    if note is not None:
        payload = to_slack_message(note)
        if thread_ts:
            payload["thread_ts"] = thread_ts
        out.post(channel, payload)


@dataclass(frozen=True)
class Outgoing:
    """Posting back to Slack, after the request: Slack wants its 200 within 3 seconds."""

    client: WebClient
    executor: Executor

    def post(self, channel: str, payload: dict[str, Any]) -> None:
        self.later(self.client.chat_postMessage, channel=channel, **payload)

    def post_private(self, channel: str, user: str, payload: dict[str, Any]) -> None:
        """Only the sender sees it: their own list, codes, contact details."""
        self.later(self.client.chat_postEphemeral, channel=channel, user=user, **payload)

    def later(self, call: Callable[..., Any], /, **kwargs: Any) -> None:
        self.executor.submit(_logged, call, **kwargs)


def _logged(call: Callable[..., Any], /, **kwargs: Any) -> None:
    """Run one Slack call; a failure is logged by its error code, never with the text."""
    try:
        call(**kwargs)
    except SlackApiError as exc:
        log.error("Slack %s failed: %s", _name(call), exc.response.get("error"))
    except Exception as exc:  # the network: nothing to retry here, the user may send again
        log.error("Slack %s failed: %s", _name(call), type(exc).__name__)


def _name(call: Callable[..., Any]) -> str:
    return getattr(call, "__name__", type(call).__name__)
