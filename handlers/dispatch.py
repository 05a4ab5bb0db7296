"""From an `Incoming` to a `Reply`: who is talking, which command, and its effect.

The caller owns the transaction: whatever a command writes is committed with the event id
that triggered it, or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.commands.link import link
from handlers.context import Context
from handlers.messages import Incoming, Reply
from handlers.questions import answer, asking, close, known, offers
from handlers.registry import match
from handlers.text import normalize
from handlers.understanding.resolve import THEN, overrides, reply_for
from storage.arrival import Arrival
from storage.identities import sender_and_question

log = logging.getLogger(__name__)

PLEASE_REGISTER = Reply(
    "はじめまして。Renkei は包括連携協定の担当者向けのボットです。\n"
    "ご利用には登録が必要です。事務局から受け取った登録コードを「登録 ABC123」のように送ってください。",
    private=True,
)
MAX_TEXT = 2000
QUESTION_DROPPED = Reply(
    "わかりました。いまの質問はやめました（何も変更していません）。\n"
    "その前に記録した入力を取り消すときは、もう一度「取消」と送ってください。"
)


def respond(
    session: Session,
    incoming: Incoming,
    *,
    now: datetime,
    tz: ZoneInfo,
    sender: Arrival | None = None,
) -> Reply | None:
    """The reply to send, or None when the bot should stay silent (group chatter).
    `sender`: who sent it and their open question, when the caller read them already."""
    text = normalize(incoming.text)
    found = match(text)
    if found is None and not incoming.addressed:
        return None  # in a group, only commands or mentions are for us
    if len(text) > MAX_TEXT:
        return Reply(f"メッセージが長すぎます（{MAX_TEXT}文字まで）。短く分けて送ってください。")
    if found is not None and found[0].name == "link":
        return link(session, incoming, found[1], now=now)
    contact, question = (
        (sender.contact, sender.question)
        if sender is not None
        else sender_and_question(
            session,
            platform=incoming.platform,
            external_id=incoming.user_id,
            chat_key=incoming.chat_id or "",
        )
    )
    if contact is None:
        return PLEASE_REGISTER
    ctx = Context(session, incoming, contact, now, tz)
    known(ctx, question)
    if found is not None and (chosen := answer(ctx, text, exact=True)):
        return _run(ctx, chosen)  # a choice's label typed as shown, though it reads as a command
    if found is not None and found[0].name == "undo" and asking(ctx) and not offers(ctx, "取消"):
        # 「取消」 under a proposal means "not that": deleting an entry made minutes ago instead
        # would surprise. The next 「取消」, with no question open, takes the entry back.
        close(ctx)
        return QUESTION_DROPPED
    if found is not None and overrides(text, found[0].name, found[1]):
        found = None  # 「タスク終わった」「KPIどれくらい？」: a command word, but no command
    if found is not None:
        return _run(ctx, text)
    chosen = answer(ctx, text)  # a typed answer ("1", "はい", "さくら町") to the last question
    if chosen:
        return _run(ctx, chosen)
    understood = reply_for(ctx, text)  # a focused answer, a proposal, or a read to run now
    return _run(ctx, understood) if isinstance(understood, str) else understood


def _run(ctx: Context, text: str) -> Reply:
    """Run a canonical command text; 「A && B」 (one proposal button) runs A, then B."""
    parts = [match(normalize(part)) for part in text.split(THEN)]
    if any(found is None or found[0].handle is None for found in parts):
        # checked before anything runs: 「活動 … 清掃 && 交流会」 must not write its first half
        return Reply("すみません、わかりませんでした。「ヘルプ」で使い方を確かめてください。")
    replies: list[Reply] = []
    for found in parts:
        assert found is not None and found[0].handle is not None  # checked above
        command, args = found
        close(ctx)  # a new command supersedes an open question; the command may ask its own
        replies.append(command.handle(ctx, args))
        # Said once it has run: an attempt that turns out to write is redone from the start
        # (bot.inbound), and the log should not show the command twice.
        log.info(
            "command %s from contact %s via %s",
            command.name,
            ctx.contact.key,
            ctx.incoming.platform,
        )
    if len(replies) == 1:
        return replies[0]
    first, last = replies[0], replies[-1]
    return replace(
        last,
        text="\n".join(r.text for r in replies[:-1]) + "\n" + last.text,
        items=tuple(i for r in replies for i in r.items),
        private=first.private and last.private,
    )
