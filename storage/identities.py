"""Who is talking: chat accounts, one-time invite codes and the contacts they link to."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from storage.models import ChatIdentity, Contact, InviteAttempt, InviteCode, PendingQuestion

INVITE_TTL = timedelta(days=7)
# No 0/O, 1/I/L: codes are read aloud and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def contact_for(session: Session, *, platform: str, external_id: str) -> Contact | None:
    """The active contact behind a chat account, or None for a stranger.

    The local channel is the operator's own shell, so there the id is the contact key itself.
    """
    if platform == "local":
        stmt = select(Contact).where(Contact.key == external_id)
    else:
        stmt = (
            select(Contact)
            .join(ChatIdentity, ChatIdentity.contact_id == Contact.id)
            .where(ChatIdentity.platform == platform, ChatIdentity.external_id == external_id)
        )
    contact = session.scalar(stmt)
    return contact if contact is not None and contact.active else None


# Every message needs the sender and their open question in this chat: one statement, built
# once (building a select per message costs more than running it on SQLite).
QUESTION_IN_CHAT = and_(  # the contact's open question in the chat (:platform, :chat_key)
    PendingQuestion.contact_id == Contact.id,
    PendingQuestion.platform == bindparam("platform"),
    PendingQuestion.chat_key == bindparam("chat_key"),
)
_SENDER_AND_QUESTION = (
    select(Contact, PendingQuestion)
    .join(ChatIdentity, ChatIdentity.contact_id == Contact.id)
    .outerjoin(PendingQuestion, QUESTION_IN_CHAT)
    .where(
        ChatIdentity.platform == bindparam("platform"),
        ChatIdentity.external_id == bindparam("external_id"),
    )
)
_LOCAL_SENDER_AND_QUESTION = (
    select(Contact, PendingQuestion)
    .outerjoin(PendingQuestion, QUESTION_IN_CHAT)
    .where(Contact.key == bindparam("external_id"))
)


def sender_and_question(
    session: Session, *, platform: str, external_id: str, chat_key: str
) -> tuple[Contact | None, PendingQuestion | None]:
    """`contact_for`, and the contact's open question in the chat `chat_key` ("" for 1:1)."""
    stmt = _LOCAL_SENDER_AND_QUESTION if platform == "local" else _SENDER_AND_QUESTION
    row = session.execute(
        stmt, {"platform": platform, "external_id": external_id, "chat_key": chat_key}
    ).first()
    if row is None or not row[0].active:
        return None, None
    return row[0], row[1]


def create_invite(session: Session, contact: Contact, *, now: datetime) -> InviteCode:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(InviteCode.id).where(InviteCode.code == code)) is None:
            break
    invite = InviteCode(
        code=code, contact_id=contact.id, created_at=now, expires_at=now + INVITE_TTL, used_at=None
    )
    session.add(invite)
    session.flush()
    return invite


def redeem_invite(
    session: Session, *, code: str, platform: str, external_id: str, now: datetime
) -> Contact | None:
    """Link the chat account to the code's contact; None when the code is unknown, used or old."""
    invite = session.scalar(
        select(InviteCode).where(InviteCode.code == code.upper()).with_for_update()
    )
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    invite.used_at = now
    identity = session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.external_id == external_id
        )
    )
    if identity is None:
        identity = ChatIdentity(
            platform=platform, external_id=external_id, linked_at=now, contact_id=invite.contact_id
        )
        session.add(identity)
    else:  # the same account re-linked, e.g. after a handover: the newest code wins
        identity.contact_id = invite.contact_id
        identity.linked_at = now
    session.flush()
    return session.get(Contact, invite.contact_id)


def find_identity(session: Session, *, platform: str, external_id: str) -> ChatIdentity | None:
    return session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.platform == platform, ChatIdentity.external_id == external_id
        )
    )


def set_blocked(
    session: Session, *, platform: str, external_id: str, blocked_at: datetime | None
) -> ChatIdentity | None:
    """Mark the chat account blocked (the person blocked the bot) or reachable again (None).

    Returns the account, or None for a stranger's (nothing to mark: no contact behind it)."""
    identity = find_identity(session, platform=platform, external_id=external_id)
    if identity is not None:
        identity.blocked_at = blocked_at
        session.flush()
    return identity


def reachable_identity(session: Session, contact_id: int) -> ChatIdentity | None:
    """The account pushes go to: the most recently linked one that is not blocked."""
    return session.scalar(
        select(ChatIdentity)
        .where(ChatIdentity.contact_id == contact_id, ChatIdentity.blocked_at.is_(None))
        .order_by(ChatIdentity.linked_at.desc(), ChatIdentity.id.desc())
        .limit(1)
    )


def void_invite(session: Session, *, code: str, now: datetime) -> bool:
    """Make a code unusable (it was shown where others could read it); True if it was live."""
    invite = session.scalar(
        select(InviteCode).where(InviteCode.code == code.upper()).with_for_update()
    )
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return False
    invite.expires_at = now
    session.flush()
    return True


# Six characters of 31 are guessable only by trying many: five wrong codes in a row lock the
# account (platform + user id) out for an hour.
MAX_WRONG_CODES = 5
LOCKOUT = timedelta(hours=1)


def _attempts(session: Session, platform: str, external_id: str) -> InviteAttempt | None:
    return session.scalar(
        select(InviteAttempt).where(
            InviteAttempt.platform == platform, InviteAttempt.external_id == external_id
        )
    )


def locked_out_until(
    session: Session, *, platform: str, external_id: str, now: datetime
) -> datetime | None:
    """When this account may try a code again, or None when it may now."""
    row = _attempts(session, platform, external_id)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def record_wrong_code(
    session: Session, *, platform: str, external_id: str, now: datetime
) -> datetime | None:
    """Count a wrong code; the end of the lockout when this one locks the account out."""
    row = _attempts(session, platform, external_id)
    if row is None:
        row = InviteAttempt(platform=platform, external_id=external_id, failures=0)
        session.add(row)
    elif row.last_failed_at <= now - LOCKOUT:  # mistakes long ago are forgiven
        row.failures = 0
    row.failures += 1
    row.last_failed_at = now
    if row.failures >= MAX_WRONG_CODES:
        row.failures, row.locked_until = 0, now + LOCKOUT
    session.flush()
    return row.locked_until if row.locked_until and row.locked_until > now else None


def clear_wrong_codes(session: Session, *, platform: str, external_id: str) -> None:
    row = _attempts(session, platform, external_id)
    if row is not None:
        session.delete(row)
        session.flush()
