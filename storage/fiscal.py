"""The Japanese fiscal year (April–March) and KPI periods on it."""

from __future__ import annotations

import functools
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
FISCAL_START_MONTH = 4


@functools.lru_cache(maxsize=65536)  # the planner asks it of every agreement on every tick
def months_after(day: date, months: int) -> date:
    """`day` plus whole months, clipped to the end of a shorter month (31 Jan + 1 → 28 Feb)."""
    return day + relativedelta(months=months)


def fiscal_year(day: date) -> int:
    """The fiscal year a day belongs to, named by the calendar year it starts in (2026年度)."""
    return day.year if day.month >= FISCAL_START_MONTH else day.year - 1


def period_start(day: date, period: str) -> date:
    """First day of the KPI period (monthly, quarterly, yearly; fiscal year) holding `day`."""
    months = PERIOD_MONTHS[period]
    offset = (day.month - FISCAL_START_MONTH) % 12  # months since 1 April
    return _add_months(date(fiscal_year(day), FISCAL_START_MONTH, 1), offset - offset % months)


def _add_months(first: date, months: int) -> date:
    """The 1st of the month `months` after `first` (a 1st). Exact, and cheap in the due
    query's loops, where relativedelta was most of the cost (bench/RESULTS.md)."""
    m = first.month - 1 + months
    return date(first.year + m // 12, m % 12 + 1, 1)


def period_end(start: date, period: str) -> date:
    return _add_months(start, PERIOD_MONTHS[period]) - timedelta(days=1)


def next_period(start: date, period: str) -> date:
    return _add_months(start, PERIOD_MONTHS[period])


def period_label(start: date, period: str) -> str:
    """A Japanese label: 2026年11月 / 2026年度 第3四半期 / 2026年度."""
    fy = fiscal_year(start)
    if period == "monthly":
        return f"{start.year}年{start.month}月"
    if period == "quarterly":
        quarter = ((start.month - FISCAL_START_MONTH) % 12) // 3 + 1
        return f"{fy}年度 第{quarter}四半期"
    return f"{fy}年度"
