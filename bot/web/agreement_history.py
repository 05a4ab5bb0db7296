"""An agreement's whole record for the web page and the 推進会議 paper: KPI series with
前年同期比 and 計画比, activities, meetings, tasks, and the 総合評価 summary near the term's end.

Where a KPI stands now comes from `storage.kpi_progress` (the rule chat uses); this module adds
the history around it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reminders.rules import rules_from
from storage.fiscal import PERIOD_MONTHS, fiscal_year, period_end
from storage.kpi_progress import Progress
from storage.models import (
    ActionItem,
    Activity,
    Agreement,
    Contact,
    Kpi,
    KpiEntry,
    Meeting,
    ReminderSettings,
)


@dataclass(frozen=True)
class Point:
    start: date  # the period's first day
    value: Decimal
    last_year: Decimal | None  # the same period a year before

    @property
    def yoy(self) -> float | None:
        return float(self.value / self.last_year) if self.last_year else None


def kpi_series(session: Session, kpis: Sequence[Kpi]) -> dict[int, list[Point]]:
    """Every value of each KPI, oldest first, in one query."""
    values: dict[int, dict[date, Decimal]] = defaultdict(dict)
    if kpis:
        for kpi_id, start, value in session.execute(
            select(KpiEntry.kpi_id, KpiEntry.period_start, KpiEntry.value)
            .where(KpiEntry.kpi_id.in_([k.id for k in kpis]))
            .order_by(KpiEntry.period_start)
        ):
            values[kpi_id][start] = value
    return {
        k.id: [
            Point(d, v, values[k.id].get(d - relativedelta(years=1)))
            for d, v in values[k.id].items()
        ]
        for k in kpis
    }


def plan_ratio(p: Progress) -> float | None:
    """計画比: this year's value against the plan to date, the target spread evenly over the
    fiscal year's periods (sum KPIs), or the straight way from the baseline (last-value KPIs)."""
    k = p.kpi
    if (
        p.year_value is None
        or p.latest_start is None
        or fiscal_year(p.latest_start) != p.fiscal_year
    ):
        return None
    months = PERIOD_MONTHS[k.period]
    elapsed = ((period_end(p.latest_start, k.period).month - 4) % 12 + 1) / 12  # of the year
    elapsed = max(elapsed, months / 12)
    if k.aggregation == "sum":
        plan = k.target * Decimal(str(elapsed))
        return ratio_to(k, p.year_value, plan)
    if k.baseline is None:
        return p.ratio
    plan = k.baseline + (k.target - k.baseline) * Decimal(str(elapsed))
    return ratio_to(k, p.year_value, plan)


def ratio_to(kpi: Kpi, value: Decimal, plan: Decimal) -> float | None:
    if kpi.direction == "up":
        return float(value / plan) if plan else None
    return float(plan / value) if value else None


def activities(
    session: Session, agreement: Agreement, *, limit: int | None = 200
) -> list[Activity]:
    stmt = (
        select(Activity)
        .where(Activity.agreement_id == agreement.id)
        .order_by(Activity.occurred_on.desc(), Activity.id.desc())
    )
    return list(session.scalars(stmt.limit(limit) if limit else stmt))


def meetings(session: Session, agreement: Agreement) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting).where(Meeting.agreement_id == agreement.id).order_by(Meeting.starts_at)
        )
    )


def tasks(session: Session, agreement: Agreement) -> list[tuple[ActionItem, str | None]]:
    """Every task with its owner's name: open ones by due date, then the done ones."""
    rows = session.execute(
        select(ActionItem, Contact.name)
        .outerjoin(Contact, Contact.id == ActionItem.owner_id)
        .where(ActionItem.agreement_id == agreement.id)
        .order_by(ActionItem.done_at.is_not(None), ActionItem.due_on)
    ).all()
    return [(t, name) for t, name in rows]


def names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(ids))).all())


@dataclass(frozen=True)
class Review:
    """総合評価: what the running term brought, shown from `review_days` before its end."""

    term_start: date
    term_end: date
    activities: int
    successes: int
    meetings_held: int
    tasks_done: int
    tasks_open: int
    kpis_reached: int
    kpis: int


def review(
    session: Session,
    agreement: Agreement,
    progress: Sequence[Progress],
    *,
    term_end: date,
    today: date,
    tz: ZoneInfo,
) -> Review | None:
    """The summary when `today` is within the review window before `term_end`, else None."""
    settings = session.scalar(
        select(ReminderSettings.settings).where(ReminderSettings.agreement_id == agreement.id)
    )
    days = rules_from(settings).review_days
    if not (term_end - timedelta(days=days) <= today <= term_end):
        return None
    term_start = max(
        agreement.starts_on,
        term_end - relativedelta(months=agreement.renew_term_months) + timedelta(days=1)
        if agreement.renew_term_months and term_end > agreement.ends_on
        else agreement.starts_on,
    )
    lo = datetime.combine(term_start, time.min, tz)
    hi = datetime.combine(today + timedelta(days=1), time.min, tz)
    acts = session.execute(
        select(func.count(Activity.id), func.count(Activity.id).filter(Activity.success))
        .where(Activity.agreement_id == agreement.id)
        .where(Activity.occurred_on >= term_start, Activity.occurred_on <= today)
    ).one()
    held = session.scalar(
        select(func.count(Meeting.id)).where(
            Meeting.agreement_id == agreement.id,
            Meeting.cancelled.is_(False),
            Meeting.starts_at >= lo,
            Meeting.starts_at < hi,
        )
    )
    done, open_ = session.execute(
        select(
            func.count(ActionItem.id).filter(ActionItem.done_at.is_not(None)),
            func.count(ActionItem.id).filter(ActionItem.done_at.is_(None)),
        ).where(ActionItem.agreement_id == agreement.id)
    ).one()
    return Review(
        term_start=term_start,
        term_end=term_end,
        activities=acts[0],
        successes=acts[1],
        meetings_held=held or 0,
        tasks_done=done,
        tasks_open=open_,
        kpis_reached=sum(1 for p in progress if p.ratio is not None and p.ratio >= 1),
        kpis=len(progress),
    )
