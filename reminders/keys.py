"""What a reminder is about, as one value: `ItemKey` builds and parses every item key.

Item keys name the thing reminded of, never the person: meeting:5, action_item:3,
kpi_entry:2.20260701 (KPI and period start), renewal:1.20270331 and review:1.20270331
(agreement and term end), cadence:1.working.20270310, dormancy:1.20261210. They are stored
(`outbox.item_key`, `reminder_state.item_key`) and typed back by people (「対応済み meeting:5」).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ITEM_KINDS = ("meeting", "kpi_entry", "action_item", "renewal", "review", "cadence", "dormancy")
_KEY = re.compile(r"^(?P<kind>[a-z_]+):(?P<id>\d{1,12})(?P<rest>(?:\.[a-z0-9]+){0,2})$")


def _day(d: date) -> str:
    return f"{d:%Y%m%d}"


@dataclass(frozen=True)
class ItemKey:
    kind: str
    id: int  # meeting / action item / KPI / agreement id, by kind
    rest: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return ":".join((self.kind, ".".join((str(self.id), *self.rest))))

    def __str__(self) -> str:
        return self.key

    @property
    def day(self) -> date | None:
        """The date part (period start, term end, due date), when the kind has one."""
        for part in reversed(self.rest):
            if part.isdigit() and len(part) == 8:
                return date(int(part[:4]), int(part[4:6]), int(part[6:]))
        return None

    @classmethod
    def parse(cls, text: str) -> ItemKey | None:
        """The key typed or stored, or None when it is not one (a friendly answer follows)."""
        m = _KEY.match(text.strip())
        if m is None or m.group("kind") not in ITEM_KINDS or int(m.group("id")) > 2**31 - 1:
            return None  # no row has an id past PostgreSQL's INTEGER (storage.models.MAX_ID)
        ref = cls(
            m.group("kind"), int(m.group("id")), tuple(p for p in m.group("rest").split(".") if p)
        )
        try:
            ref.day  # noqa: B018 - a malformed date is a malformed key
        except ValueError:
            return None
        return ref

    # One builder per kind: the only places keys are written.
    @classmethod
    def meeting(cls, meeting_id: int) -> ItemKey:
        return cls("meeting", meeting_id)

    @classmethod
    def action_item(cls, item_id: int) -> ItemKey:
        return cls("action_item", item_id)

    @classmethod
    def kpi_entry(cls, kpi_id: int, period_start: date) -> ItemKey:
        return cls("kpi_entry", kpi_id, (_day(period_start),))

    @classmethod
    def renewal(cls, agreement_id: int, term_end: date) -> ItemKey:
        return cls("renewal", agreement_id, (_day(term_end),))

    @classmethod
    def review(cls, agreement_id: int, term_end: date) -> ItemKey:
        return cls("review", agreement_id, (_day(term_end),))

    @classmethod
    def cadence(cls, agreement_id: int, meeting_kind: str, due_on: date) -> ItemKey:
        return cls("cadence", agreement_id, (meeting_kind, _day(due_on)))

    @classmethod
    def dormancy(cls, agreement_id: int, since: date) -> ItemKey:
        return cls("dormancy", agreement_id, (_day(since),))


def digest_key(monday: date) -> str:
    """A week's digests are about no one item: keyed by the week."""
    return f"digest:{_day(monday)}"
