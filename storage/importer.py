"""`renkei import FILE.yaml`: validate, then upsert by key inside the caller's transaction.

Importing the same file twice changes nothing; rows missing from a later file are left alone.
Every cross-reference is checked before the first write, so a broken file writes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import plan_mark
from storage.agreement_file import AgreementFile, AgreementFileError, AgreementIn, KpiIn
from storage.fiscal import period_start
from storage.models import (
    ActionItem,
    Agreement,
    AgreementContact,
    AgreementParty,
    Base,
    Contact,
    Kpi,
    KpiEntry,
    Meeting,
    Organization,
    ReminderSettings,
)

M = TypeVar("M", bound=Base)


def import_agreements(
    session: Session, data: AgreementFile, *, tz: ZoneInfo, now: datetime
) -> Counter[str]:
    """Apply a validated file. Returns how many rows of each kind were created or changed."""
    orgs = {o.key: o for o in session.scalars(select(Organization))}
    contacts = {c.key: c for c in session.scalars(select(Contact))}
    _check_references(data, orgs, contacts)
    stats: Counter[str] = Counter()

    for o in data.organizations:
        orgs[o.key] = _upsert(
            session, stats, orgs.get(o.key), Organization, key=o.key, name=o.name, kind=o.kind
        )
    session.flush()
    for c in data.contacts:
        contacts[c.key] = _upsert(
            session,
            stats,
            contacts.get(c.key),
            Contact,
            key=c.key,
            name=c.name,
            organization_id=orgs[c.organization].id,
            email=c.email,
            active=c.active,
            secretariat=c.secretariat,
        )
    session.flush()
    for a in data.agreements:
        _import_agreement(session, stats, a, orgs, contacts, tz, now)
    # The file may bring schedules whose recent moments the planner took as done.
    plan_mark.forget(session)
    session.flush()
    return stats


def _check_references(
    data: AgreementFile, orgs: dict[str, Organization], contacts: dict[str, Contact]
) -> None:
    org_keys = set(orgs) | {o.key for o in data.organizations}
    org_key = {o.id: k for k, o in orgs.items()}
    contact_org = {k: org_key[c.organization_id] for k, c in contacts.items()}
    contact_org |= {c.key: c.organization for c in data.contacts}
    problems = [f"{where}: {msg}" for where, msg in _duplicate_keys(data)]
    for i, c in enumerate(data.contacts):
        if c.organization not in org_keys:
            problems.append(
                f"contacts[{i}].organization: {c.organization!r} is not a known organization"
            )
    for i, a in enumerate(data.agreements):
        here = f"agreements[{i}]"
        for j, p in enumerate(a.parties):
            if p not in org_keys:
                problems.append(f"{here}.parties[{j}]: {p!r} is not a known organization")
        if len(set(a.parties)) != len(a.parties):
            problems.append(f"{here}.parties: an organization is listed twice")
        for p in a.parties:
            if p not in a.contacts:
                problems.append(f"{here}.contacts: party {p!r} has no primary contact")
        for side, roles in a.contacts.items():
            if side not in a.parties:
                problems.append(
                    f"{here}.contacts.{side}: {side!r} is not a party of this agreement"
                )
            for role in ("primary", "secondary"):
                who = getattr(roles, role)
                if who is None:
                    continue
                if who not in contact_org:
                    problems.append(
                        f"{here}.contacts.{side}.{role}: {who!r} is not a known contact"
                    )
                elif contact_org[who] != side:
                    problems.append(
                        f"{here}.contacts.{side}.{role}: {who!r} does not belong to {side!r}"
                    )
        for j, item in enumerate(a.action_items):
            if item.owner is not None and item.owner not in contact_org:
                problems.append(
                    f"{here}.action_items[{j}].owner: {item.owner!r} is not a known contact"
                )
    if problems:
        raise AgreementFileError(problems)


def _duplicate_keys(data: AgreementFile) -> list[tuple[str, str]]:
    found = []
    for name, rows in (
        ("organizations", data.organizations),
        ("contacts", data.contacts),
        ("agreements", data.agreements),
    ):
        seen: set[str] = set()
        for i, row in enumerate(rows):
            if row.key in seen:
                found.append((f"{name}[{i}].key", f"{row.key!r} appears twice"))
            seen.add(row.key)
    for i, a in enumerate(data.agreements):
        for j, k in enumerate(a.kpis):
            starts = [period_start(e.period, k.period) for e in k.entries]
            for n, first in enumerate(starts):
                if first in starts[:n]:
                    found.append(
                        (
                            f"agreements[{i}].kpis[{j}].entries[{n}].period",
                            f"a value for the period starting {first} appears twice",
                        )
                    )
        for name, keys in (
            ("kpis", [k.key for k in a.kpis]),
            ("meetings", [m.key or m.title for m in a.meetings]),
            ("action_items", [t.key or t.title for t in a.action_items]),
        ):
            for j, key in enumerate(keys):
                if key in keys[:j]:
                    found.append((f"agreements[{i}].{name}[{j}]", f"{key!r} appears twice"))
    return found


def _import_agreement(
    session: Session,
    stats: Counter[str],
    a: AgreementIn,
    orgs: dict[str, Organization],
    contacts: dict[str, Contact],
    tz: ZoneInfo,
    now: datetime,
) -> None:
    existing = session.scalar(select(Agreement).where(Agreement.key == a.key))
    cadence = a.meeting_cadence
    agreement = _upsert(
        session,
        stats,
        existing,
        Agreement,
        key=a.key,
        title=a.title,
        fields=list(a.fields),
        signed_on=a.signed_on,
        starts_on=a.starts_on,
        ends_on=a.ends_on,
        renew_term_months=a.auto_renew.term_months if a.auto_renew else None,
        notice_days=a.auto_renew.notice_days if a.auto_renew else None,
        steering_cadence_months=cadence.steering if cadence else None,
        working_cadence_months=cadence.working if cadence else None,
        slack_channel=a.slack_channel,
        line_group=a.line_group,
        short_name=a.short_name,
    )
    session.flush()
    _set_parties(session, stats, agreement, [orgs[k].id for k in a.parties])
    _set_contacts(session, stats, agreement, a, orgs, contacts)
    _set_reminder_settings(session, stats, agreement, a)

    kpis = {k.key: k for k in session.scalars(select(Kpi).where(Kpi.agreement_id == agreement.id))}
    for k in a.kpis:
        kpi = _upsert(
            session,
            stats,
            kpis.get(k.key),
            Kpi,
            agreement_id=agreement.id,
            key=k.key,
            name=k.name,
            unit=k.unit,
            period=k.period,
            baseline=k.baseline,
            target=k.target,
            target_date=k.target_date,
            direction=k.direction,
            aggregation=k.aggregation,
            entry_due_days=k.entry_due_days,
        )
        if k.entries:
            _set_entries(session, stats, kpi, k, now)

    meetings = _by_import_key(session, Meeting, agreement.id)
    for m in a.meetings:
        at = m.at if m.at.tzinfo else m.at.replace(tzinfo=tz)  # no offset means Asia/Tokyo
        _upsert(
            session,
            stats,
            meetings.get(m.key or m.title),
            Meeting,
            agreement_id=agreement.id,
            import_key=m.key or m.title,
            kind=m.kind,
            title=m.title,
            starts_at=at,
            place=m.place,
        )

    items = _by_import_key(session, ActionItem, agreement.id)
    for t in a.action_items:
        current = items.get(t.key or t.title)
        done_at = (current.done_at if current and current.done_at else now) if t.done else None
        _upsert(
            session,
            stats,
            current,
            ActionItem,
            agreement_id=agreement.id,
            import_key=t.key or t.title,
            title=t.title,
            owner_id=contacts[t.owner].id if t.owner else None,
            due_on=t.due_on,
            done_at=done_at,
        )


def _set_reminder_settings(
    session: Session, stats: Counter[str], agreement: Agreement, a: AgreementIn
) -> None:
    """The `reminders:` block; without one, the agreement is back on the defaults."""
    row = session.scalar(
        select(ReminderSettings).where(ReminderSettings.agreement_id == agreement.id)
    )
    wanted = a.reminders.model_dump(exclude_none=True) if a.reminders else {}
    if row is not None or wanted:
        _upsert(session, stats, row, ReminderSettings, agreement_id=agreement.id, settings=wanted)


def _set_entries(session: Session, stats: Counter[str], kpi: Kpi, k: KpiIn, now: datetime) -> None:
    session.flush()
    rows = {
        e.period_start: e
        for e in session.scalars(select(KpiEntry).where(KpiEntry.kpi_id == kpi.id))
    }
    for e in k.entries:
        first = period_start(e.period, k.period)
        current = rows.get(first)
        _upsert(
            session,
            stats,
            current,
            KpiEntry,
            kpi_id=kpi.id,
            period_start=first,
            value=e.value,
            entered_at=current.entered_at if current else now,
        )


def _set_parties(
    session: Session, stats: Counter[str], agreement: Agreement, ids: list[int]
) -> None:
    rows = {
        p.organization_id: p
        for p in session.scalars(
            select(AgreementParty).where(AgreementParty.agreement_id == agreement.id)
        )
    }
    for position, org_id in enumerate(ids):
        _upsert(
            session,
            stats,
            rows.get(org_id),
            AgreementParty,
            agreement_id=agreement.id,
            organization_id=org_id,
            position=position,
        )


def _set_contacts(
    session: Session,
    stats: Counter[str],
    agreement: Agreement,
    a: AgreementIn,
    orgs: dict[str, Organization],
    contacts: dict[str, Contact],
) -> None:
    rows = {
        (r.organization_id, r.role): r
        for r in session.scalars(
            select(AgreementContact).where(AgreementContact.agreement_id == agreement.id)
        )
    }
    for side, roles in a.contacts.items():
        org_id = orgs[side].id
        for role in ("primary", "secondary"):
            who = getattr(roles, role)
            if who is not None:
                _upsert(
                    session,
                    stats,
                    rows.get((org_id, role)),
                    AgreementContact,
                    agreement_id=agreement.id,
                    organization_id=org_id,
                    role=role,
                    contact_id=contacts[who].id,
                )


def _by_import_key(session: Session, model: type[M], agreement_id: int) -> dict[str, M]:
    rows = session.scalars(
        select(model).where(model.agreement_id == agreement_id, model.import_key.is_not(None))
    )  # type: ignore[attr-defined]
    return {r.import_key: r for r in rows}  # type: ignore[attr-defined]


def _upsert(
    session: Session, stats: Counter[str], row: M | None, model: type[M], **values: Any
) -> M:
    """Create `row` or update the fields that differ; count only real changes."""
    name = model.__tablename__
    if row is None:
        row = model(**values)
        session.add(row)
        stats[f"{name}.created"] += 1
        return row
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    for k in changed:
        setattr(row, k, values[k])
    if changed:
        stats[f"{name}.updated"] += 1
    return row
