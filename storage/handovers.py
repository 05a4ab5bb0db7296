"""担当変更 in the data: a side's primary role, and the leaving person's open tasks, pass to the
successor — at once, or on the day a scheduled `Handover` takes effect."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ActionItem, AgreementContact, Base, Handover

Change = Callable[[Base, dict[str, Any]], None]
Remove = Callable[[Base], None]


def open_tasks_of(session: Session, agreement_id: int, contact_id: int) -> list[ActionItem]:
    return list(
        session.scalars(
            select(ActionItem)
            .where(
                ActionItem.agreement_id == agreement_id,
                ActionItem.owner_id == contact_id,
                ActionItem.done_at.is_(None),
            )
            .order_by(ActionItem.due_on, ActionItem.id)
        )
    )


def transfer(
    session: Session,
    *,
    agreement_id: int,
    organization_id: int,
    from_id: int,
    to_id: int,
    task_ids: Sequence[int],
    change: Change,
    remove: Remove,
) -> bool:
    """Make `to_id` the side's primary and owner of the listed open tasks of `from_id`. The
    callbacks do the writing (chat logs them for 取消; the clock just sets). False when
    `from_id` is no longer that side's primary (someone changed it meanwhile)."""
    primary = session.scalar(
        select(AgreementContact).where(
            AgreementContact.agreement_id == agreement_id,
            AgreementContact.organization_id == organization_id,
            AgreementContact.role == "primary",
            AgreementContact.contact_id == from_id,
        )
    )
    if primary is None:
        return False
    # The successor may have been this side's secondary: they move up, the slot is freed.
    for row in session.scalars(
        select(AgreementContact).where(
            AgreementContact.agreement_id == agreement_id,
            AgreementContact.organization_id == organization_id,
            AgreementContact.contact_id == to_id,
        )
    ):
        remove(row)
    session.flush()
    change(primary, {"contact_id": to_id})
    for task in open_tasks_of(session, agreement_id, from_id):
        if task.id in task_ids:
            change(task, {"owner_id": to_id})
    return True


def pending_for(session: Session, agreement_ids: Sequence[int]) -> list[Handover]:
    """Scheduled handovers not yet in effect, earliest first."""
    return list(
        session.scalars(
            select(Handover)
            .where(
                Handover.agreement_id.in_(agreement_ids),
                Handover.applied_at.is_(None),
                Handover.cancelled_at.is_(None),
            )
            .order_by(Handover.effective_on, Handover.id)
        )
    )


def apply_due_handovers(session: Session, *, today: date, now: datetime) -> int:
    """Put into effect every scheduled handover whose day has come; the number applied."""
    due = session.scalars(
        select(Handover)
        .where(
            Handover.applied_at.is_(None),
            Handover.cancelled_at.is_(None),
            Handover.effective_on <= today,
        )
        .order_by(Handover.effective_on, Handover.id)
    ).all()

    def change(row: Base, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(row, key, value)

    applied = 0
    for handover in due:
        done = transfer(
            session,
            agreement_id=handover.agreement_id,
            organization_id=handover.organization_id,
            from_id=handover.from_contact_id,
            to_id=handover.to_contact_id,
            task_ids=handover.task_ids or [],
            change=change,
            remove=session.delete,
        )
        if done:
            handover.applied_at = now
            applied += 1
        else:
            handover.cancelled_at = now
    session.flush()
    return applied
