"""One row per agreement for the secretariat's overview, in a fixed number of queries.

The web's list of agreements costs the same handful of queries for three agreements or three
hundred; the per-agreement page uses `handlers.agreement_facts.gather` like 状況 does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from reminders.rules import rules_from
from storage.due import current_term_end, notice_deadline
from storage.kpi_progress import progress_for
from storage.models import ActionItem, Activity, Agreement, Kpi, KpiEntry, Meeting, ReminderSettings

HEALTH = ("good", "watch", "dormant")  # 良好 / 注意 / 形骸化の恐れ


@dataclass(frozen=True)
class OverviewRow:
    agreement: Agreement
    partners: tuple[str, ...]
    achievement: float | None  # the mean 達成率 of its KPIs with a value
    last_activity: date | None
    last_sign: date  # the last activity, meeting held or KPI value (or the start)
    next_meeting: datetime | None
    open_tasks: int
    overdue_tasks: int
    term_end: date
    notice: date | None
    health: str  # one of HEALTH

    def days_since_activity(self, today: date) -> int | None:
        return (today - self.last_activity).days if self.last_activity else None

    def days_to_deadline(self, today: date) -> int:
        return ((self.notice or self.term_end) - today).days


def health_of(days_quiet: int, dormancy_days: int, overdue: int) -> str:
    """形骸化: no sign of life for the agreement's dormancy period (the reminder rule's days);
    注意 from half of it on, or while a task is overdue."""
    if days_quiet >= dormancy_days:
        return "dormant"
    if days_quiet >= dormancy_days // 2 or overdue:
        return "watch"
    return "good"


def overview_rows(
    session: Session, agreement_ids: Sequence[int] | None, *, today: date, tz: ZoneInfo
) -> list[OverviewRow]:
    """Rows for the given agreements (all of them when None), newest term end last."""
    stmt = select(Agreement).options(selectinload(Agreement.parties)).order_by(Agreement.id)
    if agreement_ids is not None:
        if not agreement_ids:
            return []
        stmt = stmt.where(Agreement.id.in_(agreement_ids))
    agreements = list(session.scalars(stmt))
    ids = [a.id for a in agreements]
    if not ids:
        return []
    now = datetime.combine(today, time.min, tz)

    kpis = list(session.scalars(select(Kpi).where(Kpi.agreement_id.in_(ids))))
    ratios: dict[int, list[float]] = defaultdict(list)
    for p in progress_for(session, kpis, today).values():
        if p.ratio is not None:
            ratios[p.kpi.agreement_id].append(p.ratio)
    last_activity = dict(
        session.execute(
            select(Activity.agreement_id, func.max(Activity.occurred_on))
            .where(Activity.agreement_id.in_(ids), Activity.occurred_on <= today)
            .group_by(Activity.agreement_id)
        ).all()
    )
    last_meeting = dict(
        session.execute(
            select(Meeting.agreement_id, func.max(Meeting.starts_at))
            .where(Meeting.agreement_id.in_(ids), Meeting.cancelled.is_(False))
            .where(Meeting.starts_at < now)
            .group_by(Meeting.agreement_id)
        ).all()
    )
    next_meeting = dict(
        session.execute(
            select(Meeting.agreement_id, func.min(Meeting.starts_at))
            .where(Meeting.agreement_id.in_(ids), Meeting.cancelled.is_(False))
            .where(Meeting.starts_at >= now)
            .group_by(Meeting.agreement_id)
        ).all()
    )
    last_entry = dict(
        session.execute(
            select(Kpi.agreement_id, func.max(KpiEntry.entered_at))
            .join(KpiEntry, KpiEntry.kpi_id == Kpi.id)
            .where(Kpi.agreement_id.in_(ids))
            .group_by(Kpi.agreement_id)
        ).all()
    )
    tasks = {
        a: (n, late)
        for a, n, late in session.execute(
            select(
                ActionItem.agreement_id,
                func.count(ActionItem.id),
                func.sum(case((ActionItem.due_on < today, 1), else_=0)),
            )
            .where(ActionItem.agreement_id.in_(ids), ActionItem.done_at.is_(None))
            .group_by(ActionItem.agreement_id)
        )
    }
    rules = dict(
        session.execute(
            select(ReminderSettings.agreement_id, ReminderSettings.settings).where(
                ReminderSettings.agreement_id.in_(ids)
            )
        ).all()
    )

    rows = []
    for a in agreements:
        signs = [a.starts_on, last_activity.get(a.id)]
        if a.id in last_meeting:
            signs.append(last_meeting[a.id].astimezone(tz).date())
        if a.id in last_entry:
            signs.append(last_entry[a.id].astimezone(tz).date())
        last_sign = min(max(d for d in signs if d is not None), today)
        open_n, late = tasks.get(a.id, (0, 0))
        term_end = current_term_end(a, today)
        mine = ratios.get(a.id)
        rows.append(
            OverviewRow(
                agreement=a,
                partners=tuple(o.name for o in a.parties),
                achievement=sum(mine) / len(mine) if mine else None,
                last_activity=last_activity.get(a.id),
                last_sign=last_sign,
                next_meeting=next_meeting.get(a.id),
                open_tasks=open_n,
                overdue_tasks=int(late or 0),
                term_end=term_end,
                notice=notice_deadline(a, term_end),
                health=health_of(
                    (today - last_sign).days,
                    rules_from(rules.get(a.id)).dormancy_days,
                    int(late or 0),
                ),
            )
        )
    return rows
