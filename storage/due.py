"""The one answer to "what is due?": used by chat replies now and by the scheduler's planner.

Everything is computed per agreement set with a fixed number of queries (no N+1), so the cost
follows the number of agreements asked about, not the size of their history.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import BindParameter, Row, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from storage.fiscal import months_after, next_period, period_end, period_label, period_start
from storage.models import (
    ActionItem,
    Agreement,
    AgreementContact,
    Contact,
    Handover,
    Kpi,
    KpiEntry,
    Meeting,
)

# Missing KPI values older than this are history, not a to-do.
KPI_OVERDUE_LOOKBACK = timedelta(days=366)

KINDS = ("meeting", "action_item", "kpi_entry", "renewal", "handover")


@dataclass(frozen=True)
class DueItem:
    on: date  # the calendar day (Asia/Tokyo) it is due
    kind: str  # one of KINDS
    agreement_key: str
    agreement_title: str
    title: str
    at: datetime | None = None  # meetings: the start, in UTC
    ref_id: int | None = None
    overdue: bool = False


def agreements_of(contact_id: int | BindParameter[int]) -> Select[tuple[int]]:
    """Ids of the agreements a contact may see: the authorization rule, in one place.
    (A `bindparam` for the contact makes a statement that is built once.)"""
    return (
        select(AgreementContact.agreement_id)
        .where(AgreementContact.contact_id == contact_id)
        .distinct()
    )


# The chat's hottest statements, built once with their parameters bound at run time: building
# a select with its comparisons cost more than running it on SQLite (`expanding` binds a list).
# The rows that only become items are read from the tables as plain rows (attribute access
# like the ORM's), not as ORM objects: the due list of an everyday liaison took 1.55 ms of
# CPU with them, 1.0 ms without.
_IDS = bindparam("ids", expanding=True)
_AGREEMENTS_OF = agreements_of(bindparam("contact_id"))
_AGREEMENTS = select(Agreement).where(Agreement.id.in_(_IDS))
_AGREEMENTS_OF_CONTACT = select(Agreement).where(Agreement.id.in_(_AGREEMENTS_OF))
_M, _A, _K, _E = (t.__table__ for t in (Meeting, ActionItem, Kpi, KpiEntry))
_MEETINGS = select(_M.c.id, _M.c.agreement_id, _M.c.title, _M.c.starts_at).where(
    _M.c.agreement_id.in_(_IDS),
    _M.c.cancelled.is_(False),
    _M.c.starts_at >= bindparam("lo"),
    _M.c.starts_at < bindparam("hi"),
)
_OPEN_ACTION_ITEMS = select(_A.c.id, _A.c.agreement_id, _A.c.title, _A.c.due_on).where(
    _A.c.agreement_id.in_(_IDS),
    _A.c.done_at.is_(None),
    _A.c.due_on <= bindparam("end"),
)
_KPIS = select(_K.c.id, _K.c.agreement_id, _K.c.name, _K.c.period, _K.c.entry_due_days).where(
    _K.c.agreement_id.in_(_IDS)
)
_KPI_ENTRIES = select(_E.c.kpi_id, _E.c.period_start).where(
    _E.c.kpi_id.in_(bindparam("kpi_ids", expanding=True)),
    _E.c.period_start >= bindparam("since"),
)


def _rows(session: Session, stmt: Select[Any], params: dict[str, Any]) -> Sequence[Row[Any]]:
    """A table statement's rows, in the session's transaction (the entry points flush first:
    a Core statement does not autoflush what the session holds)."""
    return session.connection().execute(stmt, params).all()


def contact_agreement_ids(session: Session, contact_id: int) -> list[int]:
    """`agreements_of`, run."""
    return list(session.scalars(_AGREEMENTS_OF, {"contact_id": contact_id}))


def contact_agreements(session: Session, contact_id: int) -> dict[int, Agreement]:
    """The agreements `agreements_of` the contact, by id (one statement)."""
    return {a.id: a for a in session.scalars(_AGREEMENTS_OF_CONTACT, {"contact_id": contact_id})}


def due_for_contact(
    session: Session,
    *,
    contact_id: int,
    start: date,
    end: date,
    tz: ZoneInfo,
    agreements: dict[int, Agreement] | None = None,
) -> list[DueItem]:
    """`agreements`: the contact's (`contact_agreements`), when the caller has them."""
    session.flush()
    if agreements is None:
        agreements = contact_agreements(session, contact_id)
    items = _due(session, agreements, start, end, tz, handovers=False)
    # With the handovers of those agreements (one query), the ones that will make this contact
    # the primary of an agreement they are not on yet: a successor sees them coming.
    items += _handovers(session, agreements, start, end, successor_id=contact_id)
    return _in_order(items, tz)


def due_for_agreements(
    session: Session, *, agreement_ids: Sequence[int], start: date, end: date, tz: ZoneInfo
) -> list[DueItem]:
    """Items due between `start` and `end` (inclusive), plus what is still open from before."""
    session.flush()
    agreements = _agreements(session, agreement_ids)
    return _in_order(_due(session, agreements, start, end, tz), tz)


def _agreements(session: Session, ids: Sequence[int]) -> dict[int, Agreement]:
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(_AGREEMENTS, {"ids": list(ids)})}


def _due(
    session: Session,
    agreements: dict[int, Agreement],
    start: date,
    end: date,
    tz: ZoneInfo,
    *,
    handovers: bool = True,
) -> list[DueItem]:
    if not agreements:
        return []
    items: list[DueItem] = []
    items += _meetings(session, agreements, start, end, tz)
    items += _action_items(session, agreements, start, end)
    items += _kpi_entries(session, agreements, start, end)
    items += _renewals(agreements.values(), start, end)
    if handovers:
        items += _handovers(session, agreements, start, end)
    return items


def _in_order(items: list[DueItem], tz: ZoneInfo) -> list[DueItem]:
    # Overdue first, then by day; on one day, dated items before timed ones, then by time.
    return sorted(
        items,
        key=lambda i: (
            not i.overdue,
            i.on,
            i.at.astimezone(tz).time() if i.at else time.min,
            i.title,
        ),
    )


def _meetings(
    session: Session, agreements: dict[int, Agreement], start: date, end: date, tz: ZoneInfo
) -> list[DueItem]:
    lo = datetime.combine(start, time.min, tz)
    hi = datetime.combine(end + timedelta(days=1), time.min, tz)
    rows = _rows(session, _MEETINGS, {"ids": list(agreements), "lo": lo, "hi": hi})
    return [
        _item(
            agreements[m.agreement_id],
            "meeting",
            m.title,
            m.starts_at.astimezone(tz).date(),
            at=m.starts_at,
            ref_id=m.id,
        )
        for m in rows
    ]


def _action_items(
    session: Session, agreements: dict[int, Agreement], start: date, end: date
) -> list[DueItem]:
    rows = _rows(session, _OPEN_ACTION_ITEMS, {"ids": list(agreements), "end": end})
    return [
        _item(
            agreements[a.agreement_id],
            "action_item",
            a.title,
            a.due_on,
            ref_id=a.id,
            overdue=a.due_on < start,
        )
        for a in rows
    ]


# Built once: aliases made per call defeat SQLAlchemy's compiled-statement cache (3 ms a 予定).
_H, _AG = Handover.__table__, Agreement.__table__
_LEAVING, _SUCCESSOR = Contact.__table__.alias("leaving"), Contact.__table__.alias("successor")
_HANDOVERS_SCHEDULED = (
    select(
        _H.c.id,
        _H.c.effective_on,
        _LEAVING.c.name.label("leaving"),
        _SUCCESSOR.c.name.label("successor"),
        _AG.c.key,
        _AG.c.title,
    )
    .join(_LEAVING, _LEAVING.c.id == _H.c.from_contact_id)
    .join(_SUCCESSOR, _SUCCESSOR.c.id == _H.c.to_contact_id)
    .join(_AG, _AG.c.id == _H.c.agreement_id)
    .where(
        _H.c.applied_at.is_(None),
        _H.c.cancelled_at.is_(None),
        _H.c.effective_on >= bindparam("start"),
    )
)
_HANDOVERS = _HANDOVERS_SCHEDULED.where(_H.c.agreement_id.in_(_IDS))
_HANDOVERS_WITH_COMING = _HANDOVERS_SCHEDULED.where(
    or_(_H.c.agreement_id.in_(_IDS), _H.c.to_contact_id == bindparam("successor"))
)


def _handovers(
    session: Session,
    agreements: dict[int, Agreement],
    start: date,
    end: date,
    *,
    successor_id: int | None = None,
) -> list[DueItem]:
    """Scheduled 担当変更 (storage.handovers) not in effect yet: shown until their day, however
    far (「4月1日から」 told in December must stay in sight), like an overdue task.
    `successor_id`: also those handing an agreement (any) over to this contact."""
    stmt = _HANDOVERS if successor_id is None else _HANDOVERS_WITH_COMING
    params = {"ids": list(agreements), "start": start, "successor": successor_id}
    return [
        _item(h, "handover", f"正担当 {h.leaving} → {h.successor}", h.effective_on, ref_id=h.id)
        for h in _rows(session, stmt, params)
    ]


def _kpi_entries(
    session: Session, agreements: dict[int, Agreement], start: date, end: date
) -> list[DueItem]:
    kpis = _rows(session, _KPIS, {"ids": list(agreements)})
    if not kpis:
        return []
    lo = start - KPI_OVERDUE_LOOKBACK
    since = _first_period_bound(lo, max(k.entry_due_days for k in kpis))
    entered = {
        (e.kpi_id, e.period_start)
        for e in _rows(session, _KPI_ENTRIES, {"kpi_ids": [k.id for k in kpis], "since": since})
    }
    items = []
    for kpi in kpis:
        agreement = agreements[kpi.agreement_id]
        for first, due_on in kpi_periods_due(kpi, agreement, lo, end):
            if (kpi.id, first) in entered:
                continue
            title = f"{kpi.name}（{period_label(first, kpi.period)}）の実績入力"
            items.append(
                _item(agreement, "kpi_entry", title, due_on, ref_id=kpi.id, overdue=due_on < start)
            )
    return items


class Periodic(Protocol):
    """A KPI as far as its periods go (the ORM row or the planner's plain row)."""

    @property
    def period(self) -> str: ...
    @property
    def entry_due_days(self) -> int: ...


def kpi_periods_due(
    kpi: Periodic, agreement: Agreement, lo: date, hi: date, *, until: date | None = None
) -> Iterable[tuple[date, date]]:
    """(period start, entry due date) for each period of the agreement term due in [lo, hi].

    `until` is the last day whose period counts (default: the end of the term running at
    `hi`, so an auto-renewed agreement keeps asking for its values).
    """
    last = current_term_end(agreement, hi) if until is None else until
    # The first period that can be due on or after `lo` ends at most entry_due_days before it.
    begin = max(agreement.starts_on, lo - timedelta(days=kpi.entry_due_days))
    return _periods_due(kpi.period, kpi.entry_due_days, begin, lo, hi, min(last, hi))


# Thousands of KPIs share a period kind, a due rule and (agreements older than the window) a
# beginning: the planner and the due query work each sequence out once.
@functools.lru_cache(maxsize=65536)
def _periods_due(
    period: str, entry_due_days: int, begin: date, lo: date, hi: date, last: date
) -> tuple[tuple[date, date], ...]:
    out = []
    first = period_start(begin, period)
    while first <= last:
        due_on = period_end(first, period) + timedelta(days=entry_due_days)
        if due_on > hi:
            break
        if due_on >= lo:
            out.append((first, due_on))
        first = next_period(first, period)
    return tuple(out)


def _first_period_bound(lo: date, entry_due_days: int) -> date:
    # A period due on or after `lo` started at most a year (the longest period) before that.
    return lo - relativedelta(years=1) - timedelta(days=entry_due_days)


def current_term_end(agreement: Agreement, today: date) -> date:
    """The end of the running term: an auto-renewing agreement rolls forward term by term."""
    if not agreement.renew_term_months:
        return agreement.ends_on
    return _rolled_term_end(agreement.ends_on, agreement.renew_term_months, today)


# The planner asks for every KPI of every agreement on every tick: relativedelta in this loop
# was a tenth of a tick. The answer depends only on these three values.
@functools.lru_cache(maxsize=65536)
def _rolled_term_end(ends_on: date, months: int, today: date) -> date:
    end = ends_on
    while end < today:
        end = months_after(end, months)
    return end


def notice_deadline(agreement: Agreement, term_end: date) -> date | None:
    if agreement.renew_term_months and agreement.notice_days is not None:
        return term_end - timedelta(days=agreement.notice_days)
    return None


def _renewals(agreements: Iterable[Agreement], start: date, end: date) -> list[DueItem]:
    items = []
    for agreement in agreements:
        term_end = current_term_end(agreement, start)
        deadline = notice_deadline(agreement, term_end)
        if deadline is not None and start <= deadline <= end:
            title = f"自動更新の申し出期限（期間満了 {term_end:%Y/%m/%d}）"
            items.append(_item(agreement, "renewal", title, deadline))
        elif deadline is None and start <= term_end <= end:
            items.append(_item(agreement, "renewal", "協定の有効期間満了", term_end))
    return items


class Titled(Protocol):
    """An agreement as far as an item names it (the ORM row, or a row of a join)."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...


def _item(agreement: Titled, kind: str, title: str, on: date, **extra: object) -> DueItem:
    return DueItem(
        on=on,
        kind=kind,
        agreement_key=agreement.key,
        agreement_title=agreement.title,
        title=title,
        **extra,
    )  # type: ignore[arg-type]
