"""Reminder lead times: the defaults of the issue, overridable per agreement (`reminders:`)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class ReminderRules:
    meeting_days: tuple[int, ...] = (7,)  # calendar days before a meeting
    meeting_business_days: tuple[int, ...] = (1,)  # business days before a meeting
    kpi_days: tuple[int, ...] = (3,)  # days before a KPI value is due (and the day itself)
    action_item_days: tuple[int, ...] = (3,)  # days before an action item is due (and the day)
    renewal_days: tuple[int, ...] = (90, 60, 30, 14, 7, 0)  # before the notice deadline / end
    review_days: int = 180  # before the end of the term: the 総合評価 reminder
    cadence_days: int = 30  # before a meeting is due by the cadence
    dormancy_days: int = 60  # no sign of life for this long
    nag_limit: int = 4  # reminders per item and recipient before the last note
    attention_budget: int = 1  # 1: non-urgent reminders on touch days only (reminders.budget)


DEFAULT_RULES = ReminderRules()


def rules_from(settings: dict[str, Any] | None) -> ReminderRules:
    """Defaults with the agreement file's overrides (already validated on import)."""
    if not settings:
        return DEFAULT_RULES
    known = {f.name for f in fields(ReminderRules)}
    values = {
        # The file says `attention_budget: false`; the rules hold whole numbers only.
        k: tuple(sorted(set(v), reverse=True))
        if isinstance(v, list)
        else int(v)
        if isinstance(v, bool)
        else v
        for k, v in settings.items()
        if k in known
    }
    return replace(DEFAULT_RULES, **values)
