"""What the bot does when something other than a command happens in a chat: it is added as a
friend or blocked, joins or leaves a group, receives a picture, sees a message edited.
Platform-neutral: the adapters (bot/line.py) call these inside the event's transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.commands.group import group_intro, untie_group
from handlers.dispatch import respond
from handlers.messages import Incoming, Reply
from handlers.registry import match
from handlers.text import normalize
from storage.identities import contact_for, find_identity, reachable_identity, set_blocked
from storage.outbox import readdress_pending

log = logging.getLogger(__name__)

NOT_TEXT = Reply(
    "画像・ファイル・スタンプ・位置情報などは読み取れません。文字で送ってください。"
    "例：「予定」「活動 11/20 防災訓練 参加者45名」",
    private=True,
)
EDIT_NOT_APPLIED = Reply(
    "メッセージの編集は記録に反映されません。直すときは「取消」で取り消してから、"
    "もう一度送ってください。"
)
WELCOME_BACK = Reply(
    "おかえりなさい。リマインダーのお知らせを再開します。「ヘルプ」で使い方を表示します。",
    private=True,
)


def followed(session: Session, incoming: Incoming, *, now: datetime, tz: ZoneInfo) -> Reply | None:
    """Added as a friend (again): pushes resume; a stranger learns how to register."""
    identity = find_identity(session, platform=incoming.platform, external_id=incoming.user_id)
    if identity is not None and identity.blocked_at is not None:
        set_blocked(
            session, platform=incoming.platform, external_id=incoming.user_id, blocked_at=None
        )
        log.info(
            "%s account of contact %s unblocked the bot", incoming.platform, identity.contact_id
        )
        return WELCOME_BACK
    return respond(session, incoming, now=now, tz=tz)


def unfollowed(session: Session, *, platform: str, user_id: str, now: datetime) -> None:
    """Blocked: nothing more is pushed there; waiting notifications go where the planner now
    sends this person's (another account, or the local log as for an unlinked contact)."""
    identity = set_blocked(session, platform=platform, external_id=user_id, blocked_at=now)
    if identity is None:
        return
    other = reachable_identity(session, identity.contact_id)
    to = (other.platform, other.external_id) if other else ("local", identity.contact.key)
    moved = readdress_pending(session, platform=platform, address=user_id, to=to)
    log.info(
        "%s account of contact %s blocked the bot; %d waiting notifications go to %s instead",
        platform,
        identity.contact_id,
        moved,
        to[0],
    )


def joined_group(group_id: str) -> Reply:
    return group_intro(group_id)


def left_group(session: Session, *, platform: str, chat_id: str) -> None:
    untied = untie_group(session, platform=platform, chat_id=chat_id)
    log.info("left a %s group; %d agreements no longer send there", platform, untied)


def not_text(incoming: Incoming) -> Reply | None:
    """A picture, file, sticker or location: a one-line answer in 1:1, silence in a group."""
    return NOT_TEXT if incoming.chat_id is None else None


def edited(session: Session, incoming: Incoming) -> Reply | None:
    """An edited message that was a command (or spoke to the bot): say the edit changes
    nothing; other edits (chatter) pass in silence."""
    if match(normalize(incoming.text)) is None and not incoming.addressed:
        return None
    if contact_for(session, platform=incoming.platform, external_id=incoming.user_id) is None:
        return None
    return EDIT_NOT_APPLIED
