"""Facts about one agreement that 状況 and 引継ぎ both show, gathered with a few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from storage.due import DueItem, current_term_end, due_for_agreements, notice_deadline
from storage.kpi_progress import Progress, progress_for
from storage.models import (
    ActionItem,
    Activity,
    Agreement,
    AgreementContact,
    ChatIdentity,
    Contact,
    Handover,
    Kpi,
    Meeting,
    Organization,
)


@dataclass(frozen=True)
class Side:
    organization: str
    kind: str
    primary: tuple[Contact, bool] | None  # (contact, has a linked chat account)
    secondary: tuple[Contact, bool] | None


@dataclass(frozen=True)
class Facts:
    agreement: Agreement
    sides: list[Side]
    progress: list[Progress]
    recent: list[Activity]
    last_activity: Activity | None
    next_meeting: Meeting | None
    open_tasks: list[ActionItem]
    owners: dict[int, str]
    term_end: date
    notice: date | None
    upcoming: list[DueItem]
    handovers: list[tuple[date, str, str]]  # scheduled 担当変更: (effective day, from, to)

    def overdue_tasks(self, today: date) -> list[ActionItem]:
        return [t for t in self.open_tasks if t.due_on < today]


def gather(
    session: Session,
    agreement: Agreement,
    *,
    today: date,
    now_tz: ZoneInfo,
    recent: int = 5,
    horizon_days: int = 60,
) -> Facts:
    kpis = list(
        session.scalars(select(Kpi).where(Kpi.agreement_id == agreement.id).order_by(Kpi.id))
    )
    progress = progress_for(session, kpis, today)
    activities = list(
        session.scalars(
            select(Activity)
            .where(Activity.agreement_id == agreement.id)
            .order_by(Activity.occurred_on.desc(), Activity.id.desc())
            .limit(recent)
        )
    )
    now = datetime.combine(today, time.min, now_tz)
    next_meeting = session.scalar(
        select(Meeting)
        .where(
            Meeting.agreement_id == agreement.id,
            Meeting.cancelled.is_(False),
            Meeting.starts_at >= now,
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    )
    tasks = list(
        session.scalars(
            select(ActionItem)
            .where(ActionItem.agreement_id == agreement.id, ActionItem.done_at.is_(None))
            .order_by(ActionItem.due_on)
        )
    )
    owners = _owners(session, agreement, {t.owner_id for t in tasks if t.owner_id})
    term_end = current_term_end(agreement, today)
    upcoming = due_for_agreements(
        session,
        agreement_ids=[agreement.id],
        start=today,
        end=today + timedelta(days=horizon_days),
        tz=now_tz,
    )
    return Facts(
        agreement=agreement,
        sides=sides(session, agreement),
        progress=[progress[k.id] for k in kpis],
        recent=activities,
        last_activity=activities[0] if activities else None,
        next_meeting=next_meeting,
        open_tasks=tasks,
        owners=owners,
        term_end=term_end,
        notice=notice_deadline(agreement, term_end),
        upcoming=upcoming,
        handovers=_handovers(session, agreement),
    )


def _owners(session: Session, agreement: Agreement, owner_ids: set[int]) -> dict[int, str]:
    """Owners' names as the reminders see them: someone no longer on the agreement (left with
    a 担当変更) owns nothing any more — 「担当未定（元：田中 花子）」."""
    if not owner_ids:
        return {}
    on_it = set(
        session.scalars(
            select(AgreementContact.contact_id).where(AgreementContact.agreement_id == agreement.id)
        )
    )
    rows = session.execute(
        select(Contact.id, Contact.name, Contact.active).where(Contact.id.in_(owner_ids))
    ).all()
    return {
        cid: name if cid in on_it and active else f"担当未定（元：{name}）"
        for cid, name, active in rows
    }


def _handovers(session: Session, agreement: Agreement) -> list[tuple[date, str, str]]:
    old, new = aliased(Contact), aliased(Contact)
    return [
        (day, a, b)
        for day, a, b in session.execute(
            select(Handover.effective_on, old.name, new.name)
            .join(old, old.id == Handover.from_contact_id)
            .join(new, new.id == Handover.to_contact_id)
            .where(
                Handover.agreement_id == agreement.id,
                Handover.applied_at.is_(None),
                Handover.cancelled_at.is_(None),
            )
            .order_by(Handover.effective_on)
        ).all()
    ]


def sides(session: Session, agreement: Agreement) -> list[Side]:
    """Each party of the agreement with its primary and secondary contact."""
    linked = (
        select(func.count(ChatIdentity.id))
        .where(ChatIdentity.contact_id == Contact.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(AgreementContact.organization_id, AgreementContact.role, Contact, linked)
        .join(Contact, Contact.id == AgreementContact.contact_id)
        .where(AgreementContact.agreement_id == agreement.id)
    ).all()
    roles: dict[int, dict[str, tuple[Contact, bool]]] = {}
    for org_id, role, contact, n in rows:
        roles.setdefault(org_id, {})[role] = (contact, bool(n))
    sides = []
    for org in agreement.parties:
        assert isinstance(org, Organization)
        mine = roles.get(org.id, {})
        sides.append(Side(org.name, org.kind, mine.get("primary"), mine.get("secondary")))
    return sides


def activity_total(session: Session, agreement: Agreement) -> int:
    return (
        session.scalar(select(func.count(Activity.id)).where(Activity.agreement_id == agreement.id))
        or 0
    )
