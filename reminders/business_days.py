"""Business days and decent hours in Japan: when a reminder may reach a person.

Public staff do not want pushes at night, on weekends, on national holidays (祝日, 振替休日,
国民の休日 — all known to `jpholiday`) or during the year-end closure (12/29–1/3).
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jpholiday

YEAR_END_CLOSED = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))  # 年末年始
OFFICE_OPENS = time(9, 0)
OFFICE_CLOSES = time(18, 0)


@functools.lru_cache(maxsize=4096)  # the planner asks about the same few hundred days
def is_business_day(day: date) -> bool:
    """Monday–Friday, not a national holiday (祝日, 振替休日, 国民の休日), not 12/29–1/3."""
    if day.weekday() >= 5 or (day.month, day.day) in YEAR_END_CLOSED:
        return False
    return not jpholiday.is_holiday(day)


def next_business_day(day: date) -> date:
    """`day` itself when it is a business day, otherwise the first one after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def previous_business_day(day: date) -> date:
    """`day` itself when it is a business day, otherwise the last one before it."""
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def business_days_before(day: date, n: int) -> date:
    """The n-th business day before `day` (n=1: the business day before it)."""
    for _ in range(n):
        day = previous_business_day(day - timedelta(days=1))
    return day


def in_office_hours(moment: datetime, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz)
    return is_business_day(local.date()) and OFFICE_OPENS <= local.time() < OFFICE_CLOSES


def decent_moment(moment: datetime, tz: ZoneInfo, *, leading: bool) -> datetime:
    """`moment` when it is within office hours on a business day; otherwise the previous
    business morning for a reminder that leads up to a deadline (it must not arrive late),
    or the next business morning for a nudge. Returned in `tz`."""
    local = moment.astimezone(tz)
    day, clock = local.date(), local.time()
    if in_office_hours(local, tz):
        return local
    if leading:
        if not (is_business_day(day) and clock >= OFFICE_CLOSES):
            day = previous_business_day(day - timedelta(days=1) if clock < OFFICE_OPENS else day)
    elif is_business_day(day) and clock < OFFICE_OPENS:
        pass  # this morning
    else:
        day = next_business_day(day + timedelta(days=1))
    return datetime.combine(day, OFFICE_OPENS, tz)


@functools.lru_cache(maxsize=16384)  # every schedule of every agreement asks about few days
def morning(day: date, tz: ZoneInfo, *, leading: bool) -> datetime:
    """09:00 on `day`, moved to a business morning as `decent_moment` says."""
    return decent_moment(datetime.combine(day, OFFICE_OPENS, tz), tz, leading=leading)
