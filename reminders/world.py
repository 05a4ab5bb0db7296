"""What the rules read (`World`, loaded once per run and frozen) and the moments a run plans
(`Window`): two values complete when built, so the item builders import no planner back."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ScalarSelect

from reminders.rules import ReminderRules
from storage.models import Agreement

log = logging.getLogger("reminders.planner")
_T = TypeVar("_T")

# The furthest a reminder's business morning moves from its day: the year-end closure
# (12/29–1/3) with the weekends around it.
MARGIN = timedelta(days=10)


class Role(NamedTuple):
    """A contact's role on an agreement: plain rows, as the planner reads tens of thousands."""

    contact_id: int
    organization_id: int
    role: str


class Person(NamedTuple):
    key: str
    name: str
    organization_id: int
    active: bool


@dataclass(frozen=True)
class Window:
    """The moments the builders keep: all of them when unset (the preview, a snoozed item).

    Moments before `recent` were planned by an earlier tick, except those of meetings and
    action items written since (`fresh`): a reminder they just missed is still caught up."""

    start: datetime | None = None
    end: datetime | None = None
    recent: datetime | None = None
    whole: frozenset[str] = frozenset()  # snoozed items: a snooze needs the whole schedule
    fresh: frozenset[str] = frozenset()  # meetings and action items written since `recent`

    def span(self, item_key: str | None) -> tuple[datetime, datetime] | None:
        """[since, end) of the moments a builder needs; None for all of them. Agreement-wide
        schedules start at the mark; meetings and action items written since it keep the whole
        look-back."""
        if self.start is None or self.end is None or (item_key and item_key in self.whole):
            return None
        if self.recent is None or (item_key and item_key in self.fresh):
            return self.start, self.end
        return max(self.start, self.recent), self.end


@dataclass(frozen=True)
class World:
    """What the rules need, loaded with a fixed number of queries (`planner.load_world`)."""

    tz: ZoneInfo
    scope: ScalarSelect[int]  # the ids of `agreements`, as a subquery
    agreements: dict[int, Agreement]
    rules: dict[int, ReminderRules]
    roles: dict[int, list[Role]]
    contacts: dict[int, Person]
    identities: dict[int, tuple[str, str]]
    window: Window = Window()
    # What could not be planned this run (item or agreement keys): one bad row (a meeting in
    # year 9999, a broken setting) is skipped and counted, never stops the others.
    failures: list[str] = field(default_factory=list)
    _people: dict[tuple[int, str | None], list[int]] = field(default_factory=dict)

    def isolated(self, what: str, build: Callable[[], list[_T]]) -> list[_T]:
        """`build()`, or nothing when it fails: logged with `what` and counted."""
        try:
            return build()
        except Exception:  # any failure of one item must not stop the others
            log.exception("planner: could not plan %s; skipped, the others are planned", what)
            self.failures.append(what)
            return []

    def ahead(self, field: str) -> timedelta:
        """The longest lead time of one kind over all agreements, with a week for holidays and
        MARGIN for the attention budget's earlier touch day: items due further out than this
        have nothing to send yet."""
        days = [0]
        for rules in self.rules.values():
            value = getattr(rules, field)
            days += list(value) if isinstance(value, tuple) else [value]
        return timedelta(days=max(days) + 7) + MARGIN

    def behind(self) -> timedelta:
        """How long after its date a chased item may still be nagged (weekly, to the limit)."""
        limit = max([r.nag_limit for r in self.rules.values()] or [0])
        return timedelta(weeks=limit + 2)

    def people(self, agreement_id: int, role: str | None = None) -> list[int]:
        key = (agreement_id, role)
        if key not in self._people:  # asked for every item of the agreement: computed once
            self._people[key] = [
                r.contact_id
                for r in self.roles.get(agreement_id, [])
                if (role is None or r.role == role) and self.contacts[r.contact_id].active
            ]
        return self._people[key]

    def may_keep(self, item_key: str, first: date, last: date) -> bool:
        """Whether a schedule whose days span [first, last] can have a moment in the window
        (checked before its moments are worked out; a business morning is never more than
        MARGIN from its day)."""
        span = self.window.span(item_key)
        return span is None or (
            first - MARGIN <= span[1].astimezone(self.tz).date()
            and last + MARGIN >= span[0].astimezone(self.tz).date()
        )

    def in_window(self, moments: Iterable[datetime]) -> bool:
        """Whether any of an agreement-wide schedule's moments is new in the window (a schedule
        many items share: each item's own snooze is checked by the caller)."""
        span = self.window.span(None)
        return span is None or any(span[0] <= at < span[1] for at in moments)

    def keeps(self, item_key: str, at: datetime) -> bool:
        """Whether a builder needs the moment `at` of this item: a tick's cost then follows
        what is due in its window, not every schedule's whole year."""
        span = self.window.span(item_key)
        return span is None or span[0] <= at < span[1]

    def side_of(self, contact_id: int) -> int:
        return self.contacts[contact_id].organization_id

    def address_of(self, contact_id: int) -> tuple[str, str]:
        return self.identities.get(contact_id) or ("local", self.contacts[contact_id].key)
