"""Where a KPI stands: this fiscal year's value against the target, and the same period last
year (前年同期比). Used by chat replies (KPI, 状況, 引継ぎ) — one rule, one place."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.fiscal import fiscal_year
from storage.models import Kpi, KpiEntry


@dataclass(frozen=True)
class Progress:
    kpi: Kpi
    fiscal_year: int
    year_value: Decimal | None  # this fiscal year so far (sum or last, per the KPI)
    ratio: float | None  # 達成率: 1.0 means the target is reached
    latest_start: date | None  # the latest period with a value
    latest_value: Decimal | None
    last_year_value: Decimal | None  # the same period one year before the latest

    @property
    def yoy(self) -> float | None:
        if self.latest_value is None or not self.last_year_value:
            return None
        return float(self.latest_value / self.last_year_value)


def progress_for(session: Session, kpis: Sequence[Kpi], today: date) -> dict[int, Progress]:
    """Progress of each KPI in one query over this and last fiscal year's entries."""
    if not kpis:
        return {}
    fy = fiscal_year(today)
    since = date(fy - 1, 4, 1)
    entries: dict[int, dict[date, Decimal]] = defaultdict(dict)
    for kpi_id, start, value in session.execute(
        select(KpiEntry.kpi_id, KpiEntry.period_start, KpiEntry.value)
        .where(KpiEntry.kpi_id.in_([k.id for k in kpis]), KpiEntry.period_start >= since)
        .where(KpiEntry.period_start <= today)
    ):
        entries[kpi_id][start] = value
    return {k.id: _progress(k, entries[k.id], fy) for k in kpis}


def _progress(kpi: Kpi, values: dict[date, Decimal], fy: int) -> Progress:
    this_year = sorted((d, v) for d, v in values.items() if fiscal_year(d) == fy)
    year_value: Decimal | None = None
    if this_year:
        year_value = (
            sum((v for _, v in this_year), Decimal(0))
            if kpi.aggregation == "sum"
            else this_year[-1][1]
        )
    latest = max(values.items(), default=None)
    last_year = values.get(latest[0] - relativedelta(years=1)) if latest else None
    return Progress(
        kpi=kpi,
        fiscal_year=fy,
        year_value=year_value,
        ratio=ratio(kpi, year_value),
        latest_start=latest[0] if latest else None,
        latest_value=latest[1] if latest else None,
        last_year_value=last_year,
    )


def ratio(kpi: Kpi, value: Decimal | None) -> float | None:
    """達成率: value / target for "more is better"; for "less is better", the share of the way
    from the baseline down to the target (target / value without a baseline)."""
    if value is None:
        return None
    if kpi.direction == "up":
        return float(value / kpi.target) if kpi.target else None
    if kpi.baseline is not None and kpi.baseline != kpi.target:
        return float((kpi.baseline - value) / (kpi.baseline - kpi.target))
    return float(kpi.target / value) if value else None
