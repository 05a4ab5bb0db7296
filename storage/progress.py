"""Activity counts for the digest and the review (総合評価) reminder. KPI progress has its own
module, shared with the chat (storage.kpi_progress)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Activity, Agreement, Meeting


@dataclass(frozen=True)
class TermSummary:
    activities: int
    by_field: Counter[str]
    meetings: int


def term_summary(
    session: Session, agreement: Agreement, *, lo: date, hi: date, tz: ZoneInfo
) -> TermSummary:
    """Activities (by field) and meetings held in [lo, hi]: the review's counts."""
    by_field: Counter[str] = Counter()
    for field, count in session.execute(
        select(Activity.field, func.count())
        .where(
            Activity.agreement_id == agreement.id,
            Activity.occurred_on >= lo,
            Activity.occurred_on <= hi,
        )
        .group_by(Activity.field)
    ):
        by_field[field or "その他"] += count
    meetings = session.scalar(
        select(func.count())
        .select_from(Meeting)
        .where(Meeting.agreement_id == agreement.id, Meeting.cancelled.is_(False))
        .where(Meeting.starts_at >= datetime.combine(lo, time.min, tz))
        .where(Meeting.starts_at < datetime.combine(hi + timedelta(days=1), time.min, tz))
    )
    return TermSummary(sum(by_field.values()), by_field, int(meetings or 0))
