"""Who may see what on the web, and the tokens that sign people in and feed their calendars.

A contact sees the agreements they are a contact of (`agreements_of`, the chat rule); a contact
marked 事務局 (`secretariat`) also sees, and may edit, every agreement its organization is a
party to. Anything else is not found.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select, union, update
from sqlalchemy.orm import Session

from storage.due import agreements_of
from storage.models import AgreementParty, CalendarFeed, Contact, LoginLink

LOGIN_LINK_TTL = timedelta(minutes=15)


def visible_agreements(contact: Contact) -> Select[tuple[int]]:
    """Ids of the agreements `contact` may see on the web."""
    if not contact.secretariat:
        return agreements_of(contact.id)
    mine = select(AgreementParty.agreement_id).where(
        AgreementParty.organization_id == contact.organization_id
    )
    return select(union(agreements_of(contact.id), mine).subquery().c[0])


def may_see(session: Session, contact: Contact, agreement_id: int) -> bool:
    ids = visible_agreements(contact).subquery()
    return session.scalar(select(ids.c[0]).where(ids.c[0] == agreement_id).limit(1)) is not None


def may_edit(session: Session, contact: Contact, agreement_id: int) -> bool:
    """事務局 edits its organization's agreements; a contact marks their own successes only."""
    return contact.secretariat and may_see(session, contact, agreement_id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_link(
    session: Session, contact: Contact, *, now: datetime, next_path: str = "/"
) -> str:
    """A new one-time token for `contact`; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginLink(
            token_hash=_digest(token),
            contact_id=contact.id,
            next_path=safe_next(next_path),
            created_at=now,
            expires_at=now + LOGIN_LINK_TTL,
            used_at=None,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class SignIn:
    contact_id: int
    next_path: str


def redeem_login_link(session: Session, token: str, *, now: datetime) -> SignIn | None:
    """Use the link once: a conditional UPDATE, so two clicks at once cannot both sign in."""
    link = session.scalar(select(LoginLink).where(LoginLink.token_hash == _digest(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    claimed = session.execute(
        update(LoginLink)
        .where(LoginLink.id == link.id, LoginLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    contact = session.get(Contact, link.contact_id)
    if contact is None or not contact.active:
        return None
    return SignIn(contact.id, link.next_path)


def safe_next(path: str) -> str:
    """Only a path of this site: no scheme, host or protocol-relative `//` (open redirects)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 300:
        return "/"
    return path


def calendar_token(session: Session, contact: Contact, *, now: datetime) -> str:
    """The contact's feed token, made on first use; it stays the same so subscriptions last."""
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.contact_id == contact.id))
    if feed is None:
        feed = CalendarFeed(contact_id=contact.id, token=secrets.token_urlsafe(32), created_at=now)
        session.add(feed)
        session.flush()
    return feed.token


def contact_of_feed(session: Session, token: str) -> Contact | None:
    contact = session.scalar(
        select(Contact)
        .join(CalendarFeed, CalendarFeed.contact_id == Contact.id)
        .where(CalendarFeed.token == token)
    )
    return contact if contact is not None and contact.active else None
