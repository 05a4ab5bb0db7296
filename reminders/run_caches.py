"""The arithmetic one planning run shares among thousands of items (chase
slots, KPI period sequences, term ends: bench/RESULTS.md finding 5) is cached; across runs the
keys (windows, days) do not come back, yet each cache keeps up to 65,536 of them: part of
what a national clock kept after every Monday (finding 16). The clock empties them at the
start of each run."""

from __future__ import annotations

from reminders import budget, slots
from storage import due, fiscal

_PER_RUN = (
    due._periods_due,
    due._rolled_term_end,
    fiscal.months_after,
    slots.chase_slots,
    budget.budgeted_lead,
    budget.budgeted_request,
    budget.budgeted_nag,
)


def forget() -> None:
    for cached in _PER_RUN:
        cached.cache_clear()


def entries() -> int:
    """How much the caches hold now (for the tests)."""
    return sum(cached.cache_info().currsize for cached in _PER_RUN)
