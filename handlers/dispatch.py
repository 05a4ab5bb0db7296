"""From an `Incoming` to a `Reply`: who is talking, which command, and its effect.

The caller owns the transaction: whatever a command writes is committed with the event id
that triggered it, or not at all.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.commands.link import link
from handlers.context import Context
from handlers.messages import Incoming, Reply
from handlers.questions import answer, close
from handlers.registry import help_reply, match
from handlers.text import normalize
from storage.identities import contact_for

log = logging.getLogger(__name__)

PLEASE_REGISTER = Reply(
    "はじめまして。Renkei は包括連携協定の担当者向けのボットです。\n"
    "ご利用には登録が必要です。事務局から受け取った登録コードを「登録 ABC123」のように送ってください。",
    private=True,
)
MAX_TEXT = 2000


def respond(session: Session, incoming: Incoming, *, now: datetime, tz: ZoneInfo) -> Reply | None:
    """The reply to send, or None when the bot should stay silent (group chatter)."""
    text = normalize(incoming.text)
    found = match(text)
    if found is None and not incoming.addressed:
        return None  # in a group, only commands or mentions are for us
    if len(text) > MAX_TEXT:
        return Reply(f"メッセージが長すぎます（{MAX_TEXT}文字まで）。短く分けて送ってください。")
    if found is not None and found[0].name == "link":
        return link(session, incoming, found[1], now=now)
    contact = contact_for(session, platform=incoming.platform, external_id=incoming.user_id)
    if contact is None:
        return PLEASE_REGISTER
    ctx = Context(session, incoming, contact, now, tz)
    if found is None:
        chosen = answer(ctx, text)  # a typed answer ("1", "さくら町") to the bot's last question
        found = match(chosen) if chosen else None
    if found is None:
        return Reply(
            "すみません、わかりませんでした。例：「予定」「活動 11/20 防災訓練 参加者45名」",
            items=help_reply().items,
            private=True,
        )
    command, args = found
    assert command.handle is not None
    log.info("command %s from contact %s via %s", command.name, contact.key, incoming.platform)
    close(ctx)  # a new command supersedes an open question; the command may ask its own
    return command.handle(ctx, args)
