"""What every message needs before anything else: the claim of its platform event id, its
sender and their open question in that chat. On PostgreSQL one statement (a data-modifying
CTE), so a message costs one round trip less; elsewhere the two statements it stands for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, literal, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from storage.events import claim_event
from storage.identities import QUESTION_IN_CHAT, sender_and_question
from storage.models import ChatIdentity, Contact, PendingQuestion, ProcessedEvent


@dataclass(frozen=True)
class Arrival:
    claimed: bool  # False: a redelivery, already applied
    contact: Contact | None  # None: a stranger, or a contact no longer active
    question: PendingQuestion | None


def arrive(
    session: Session,
    *,
    platform: str,
    event_id: str | None,
    now: datetime,
    external_id: str,
    chat_key: str,
) -> Arrival:
    """Claim `event_id` (None: nothing to claim) and read who sent it, inside the caller's
    transaction."""
    if event_id is not None and platform != "local" and _postgresql(session):
        row = session.execute(
            _ARRIVAL,
            {
                "platform": platform,
                "event_id": event_id,
                "now": now,
                "external_id": external_id,
                "chat_key": chat_key,
            },
        ).one()
        contact = row[1] if row[1] is not None and row[1].active else None
        return Arrival(row[0] is not None, contact, row[2] if contact is not None else None)
    if event_id is not None and not claim_event(
        session, platform=platform, event_id=event_id, now=now
    ):
        return Arrival(False, None, None)
    contact, question = sender_and_question(
        session, platform=platform, external_id=external_id, chat_key=chat_key
    )
    return Arrival(True, contact, question)


def _postgresql(session: Session) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


_CLAIM = (
    postgresql.insert(ProcessedEvent)
    .values(
        platform=bindparam("platform"),
        event_id=bindparam("event_id"),
        received_at=bindparam("now"),
    )
    .on_conflict_do_nothing()
    .returning(ProcessedEvent.id)
    .cte("claim")
)
_ONE_ROW = select(literal(1).label("one")).subquery("arrival")
# One row whatever happens: the claim's id (NULL for a redelivery), the contact and their open
# question (NULL for a stranger, or none open).
_ARRIVAL = (
    select(_CLAIM.c.id, Contact, PendingQuestion)
    .select_from(_ONE_ROW)
    .outerjoin(_CLAIM, true())
    .outerjoin(
        ChatIdentity,
        and_(
            ChatIdentity.platform == bindparam("platform"),
            ChatIdentity.external_id == bindparam("external_id"),
        ),
    )
    .outerjoin(Contact, Contact.id == ChatIdentity.contact_id)
    .outerjoin(PendingQuestion, QUESTION_IN_CHAT)
)
