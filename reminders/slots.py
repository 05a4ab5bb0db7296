"""The moments of one item's reminder schedule, and the few words every subject needs.

A chased item (KPI value, action item, cadence, dormancy) gets reminders before it is due, on
the day, then weekly while it is open, until the nag limit; the slot after the limit is the one
last note to the secondary contact. Moments are business mornings (reminders.business_days).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reminders.budget import budgeted_lead, budgeted_nag, budgeted_request
from reminders.business_days import morning

PHASES = ("request", "lead", "due", "overdue")


@dataclass(frozen=True)
class Slot:
    tag: str  # stable within the item: part of the dedupe key
    day: date  # the day the rule names (before moving to a business morning)
    at: datetime  # when it is sent
    phase: str  # one of PHASES
    # The rule's own moment when the budget moved `at` (a later nag): its escalation keeps it.
    held: datetime | None = None


# Pure in its arguments, and thousands of items share a due date (every monthly KPI of the
# country is due on the same day): the planner computes each schedule once per process.
@functools.lru_cache(maxsize=65536)
def chase_slots(
    due: date,
    lead_days: tuple[int, ...],
    count: int,
    tz: ZoneInfo,
    *,
    request: date | None = None,
    due_leads: bool = True,
    budget: bool = False,
) -> tuple[Slot, ...]:
    """The first `count` slots: [request], leads, the due day, then weekly while overdue.

    Leading slots move to the previous business morning (they must not arrive late), the others
    to the next one. Two slots that land on the same moment become one (the later, more urgent
    one), so a holiday never makes a person get the same reminder twice in one morning.

    `budget` (reminders.budget): a non-urgent lead moves to the touch day on or before its
    moment, a non-urgent request to the touch day on or after it (never asked before the
    period ends); an overdue nag after the first one, but before the last note, to the touch
    day on or after it (`held`: its own moment); each keeps its tag, so its dedupe key does
    not change.
    """
    slots: list[Slot] = []
    if request is not None:
        at = morning(request, tz, leading=False)
        slots.append(
            Slot("req", request, budgeted_request(at, due, tz) if budget else at, "request")
        )
    for d in sorted({d for d in lead_days if d > 0}, reverse=True):
        day = due - timedelta(days=d)
        if request is None or day > request:
            at = morning(day, tz, leading=True)
            slots.append(Slot(f"d{d}", day, budgeted_lead(at, due, tz) if budget else at, "lead"))
    slots.append(Slot("due", due, morning(due, tz, leading=due_leads), "due"))
    for week in range(1, count + 2):
        day = due + timedelta(weeks=week)
        slots.append(Slot(f"w{week}", day, morning(day, tz, leading=False), "overdue"))
    kept: list[Slot] = []
    for slot in slots:
        while kept and kept[-1].at >= slot.at:
            kept.pop()
        kept.append(slot)
    kept = kept[:count]
    if budget:  # the nags between the first overdue notice and the last note (both urgent)
        overdue = [i for i, slot in enumerate(kept) if slot.phase == "overdue"]
        for i in overdue[1:]:
            if i < count - 1:
                kept[i] = replace(kept[i], at=budgeted_nag(kept[i].at, tz), held=kept[i].at)
    return tuple(kept)


def end_of(day: date, tz: ZoneInfo) -> datetime:
    """The first moment after `day`: what is due on a day may be reminded until then."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
