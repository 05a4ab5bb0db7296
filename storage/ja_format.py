"""Japanese formatting of dates, times and agreement names: one place for chat replies and
reminder texts alike."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from storage.fiscal import fiscal_year

WEEKDAYS = "月火水木金土日"


def fmt_date(day: date, *, year: bool = False, today: date | None = None) -> str:
    """11/20（金）, or 2026/11/20（金） with the year: asked for, or — given `today` — when the
    day lies outside this fiscal year (last year's 12/10 must not read as this year's)."""
    if today is not None and fiscal_year(day) != fiscal_year(today):
        year = True
    head = f"{day.year}/{day.month}/{day.day}" if year else f"{day.month}/{day.day}"
    return f"{head}（{WEEKDAYS[day.weekday()]}）"


def fmt_datetime(moment: datetime, tz: ZoneInfo, *, today: date | None = None) -> str:
    local = moment.astimezone(tz)
    return f"{fmt_date(local.date(), today=today)} {local:%H:%M}"


def short_title(title: str) -> str:
    """「みなと市と株式会社アクメとの包括連携協定」→「みなと市と株式会社アクメ」."""
    for suffix in ("との包括連携協定", "包括連携協定", "との連携協定", "連携協定", "協定"):
        if title.endswith(suffix) and len(title) > len(suffix):
            return title[: -len(suffix)]
    return title
