"""What the columns and the clock can hold. Values outside are refused where they come in (chat,
the secretariat's forms, the agreement file) with a word, instead of failing in the database
(PostgreSQL: "integer out of range", "numeric field overflow") or in the planner."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

# Nothing in a liaison's work lies outside these years, and 9999/12/31 overflowed the planner
# (UTC conversion past date.max).
FIRST_YEAR = 2000
LAST_YEAR = 2100
KPI_VALUE_LIMIT = Decimal(10) ** 14  # Numeric(18, 4): fourteen digits before the point
MAX_ID = 2**31 - 1  # PostgreSQL's INTEGER, the ids' type


def in_years(value: date | datetime) -> date | datetime:
    """`value`, or ValueError when its year lies outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value
