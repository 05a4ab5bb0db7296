"""The attention budget: fewer pushes, at moments a person expects them.

Urgent notifications go on their day: a deadline within 2 business days, the day itself, the
first overdue notice, escalations, a snooze ending. A reminder that leads up to a deadline 3 or
more business days ahead goes on the person's touch day on or before its moment — the digest day
(the week's first business day) or Thursday (the next business day when it is a holiday) — so it
rides in the same push as the digest or the day's other reminders, and never arrives late.
Only the first overdue notice is urgent: the weekly nags after it go on the touch day on or after
their moment (their escalations to the secondaries and the channel keep their day), except the
last note at the nag limit, which is an escalation too.
What the person's weekly digest listed (due in its next two weeks, among the first lines of the
agreement's card, and unchanged since) is not pushed again before its urgent window. Per agreement: `reminders: {attention_budget: 0}` turns it off.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.business_days import OFFICE_OPENS, is_business_day, next_business_day

URGENT_BUSINESS_DAYS = 2  # a deadline this near (in business days) is urgent
DIGEST_LISTS = timedelta(days=13)  # the digest's 「今後2週間」: its day and the 13 after it
LISTED_KINDS = ("meeting", "action_item", "kpi_entry")  # what the digest's due list shows
DIGEST_LINES = 6  # a digest card's 「今後2週間」 shows this many items (bot.digest.MAX_LINES)


def digest_day(monday: date) -> date | None:
    """The week's first business day (Monday, or the next when Monday is a holiday)."""
    for offset in range(5):
        day = monday + timedelta(days=offset)
        if is_business_day(day):
            return day
    return None  # a week without business days (none so far) gets no digest


@functools.lru_cache(maxsize=4096)
def touch_days(monday: date) -> tuple[date, ...]:
    """A week's touch days: its digest day, and Thursday (or the next business day of the same
    week when Thursday is a holiday)."""
    days: list[date] = []
    first = digest_day(monday)
    if first is not None:
        days.append(first)
        thursday = next_business_day(monday + timedelta(days=3))
        if thursday < monday + timedelta(days=5) and thursday > first:
            days.append(thursday)
    return tuple(days)


def is_touch_day(day: date) -> bool:
    return day in touch_days(day - timedelta(days=day.weekday()))


def touch_day_before(day: date) -> date:
    """`day` itself when it is a touch day, otherwise the last touch day before it."""
    monday = day - timedelta(days=day.weekday())
    while True:
        earlier = [t for t in touch_days(monday) if t <= day]
        if earlier:
            return earlier[-1]
        monday -= timedelta(weeks=1)


def business_days_between(first: date, last: date) -> int:
    """Business days after `first` up to and including `last` (0 when `last` <= `first`)."""
    n, day = 0, first
    while day < last:
        day += timedelta(days=1)
        n += is_business_day(day)
    return n


def is_urgent(day: date, deadline: date) -> bool:
    return business_days_between(day, deadline) <= URGENT_BUSINESS_DAYS


def touch_day_after(day: date) -> date:
    """`day` itself when it is a touch day, otherwise the first touch day after it."""
    monday = day - timedelta(days=day.weekday())
    while True:
        later = [t for t in touch_days(monday) if t >= day]
        if later:
            return later[0]
        monday += timedelta(weeks=1)


@functools.lru_cache(maxsize=65536)
def budgeted_lead(at: datetime, deadline: date, tz: ZoneInfo) -> datetime:
    """Where a reminder leading up to `deadline`, due at `at`, goes under the budget: `at` when
    it is urgent; otherwise the touch day on or before it (it must not arrive late)."""
    day = at.astimezone(tz).date()
    if is_urgent(day, deadline):
        return at
    return datetime.combine(touch_day_before(day), OFFICE_OPENS, tz)


@functools.lru_cache(maxsize=65536)
def budgeted_request(at: datetime, deadline: date, tz: ZoneInfo) -> datetime:
    """A request (a KPI value, once its period has ended) that is not urgent: the touch day on
    or after `at` — before it the period is not over — unless that would make it urgent."""
    day = at.astimezone(tz).date()
    if is_urgent(day, deadline):
        return at
    later = touch_day_after(day)
    return datetime.combine(later, OFFICE_OPENS, tz) if not is_urgent(later, deadline) else at


@functools.lru_cache(maxsize=65536)
def budgeted_nag(at: datetime, tz: ZoneInfo) -> datetime:
    """A weekly nag after the first overdue notice is not urgent: the touch day on or after
    `at` (never before a week has passed since the previous one), riding with that day's push."""
    later = touch_day_after(at.astimezone(tz).date())
    return max(at, datetime.combine(later, OFFICE_OPENS, tz))


def listing_digest(kind: str, at: datetime, deadline: date, tz: ZoneInfo) -> date | None:
    """The digest day whose list may hold a reminder leading up to `deadline`, at `at`: the
    week's digest, sent before it, with the deadline in its next two weeks, when the reminder is
    not urgent (on the digest day itself the reminder rides in the digest's push). Whether that
    digest really listed the item (its card shows the first DIGEST_LINES) is for
    reminders.listed to check against the database."""
    if kind not in LISTED_KINDS:
        return None
    day = at.astimezone(tz).date()
    if is_urgent(day, deadline):
        return None
    first = digest_day(day - timedelta(days=day.weekday()))
    if first is not None and first < day and deadline <= first + DIGEST_LISTS:
        return first
    return None
