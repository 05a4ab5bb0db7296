"""Finding the date in a message, and asking back when its weekday contradicts it."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.context import Context
from handlers.dates import FIRST_YEAR, LAST_YEAR, WeekdayMismatch, When, find_when, in_range
from handlers.messages import Button, Reply
from handlers.questions import ask
from handlers.text import WEEKDAYS, fmt_date

# The token that carries the contradicting weekday, e.g. 「12月1日(月)」.
# Bounded: an unbounded \S* before the bracket made a long word without one quadratic.
_WEEKDAY_TOKEN = re.compile(
    r"\S{0,20}[(（][月火水木金土日](?:曜日?)?[)）]\S{0,20}|\S{0,20}[月火水木金土日]曜日?"
)


def find_date(
    ctx: Context, text: str, *, retry: str, command: str
) -> tuple[When, str] | Reply | None:
    """(when, the rest of the text), a question when the weekday does not fit, or None.

    `retry` is what precedes `text` in the message, e.g. 「会議 変更 3」, so an answer to the
    question repeats the whole command with the date made plain.
    """
    try:
        found = find_when(text, today=ctx.today)
    except WeekdayMismatch as exc:
        return ask_weekday(ctx, exc, text, retry=retry, command=command)
    if found is not None and not in_range(found[0]):
        return Reply(
            f"日付は{FIRST_YEAR}年から{LAST_YEAR}年の間で指定してください"
            f"（{found[0].start.year}年と読みました）。何も記録していません。"
        )
    return found


def ask_weekday(
    ctx: Context, exc: WeekdayMismatch, text: str, *, retry: str, command: str
) -> Reply:
    """Offer the date as written and the nearest day with the weekday as written."""
    day = exc.day
    other = min(
        (
            day + timedelta(days=d)
            for d in range(-3, 4)
            if (day + timedelta(days=d)).weekday() == exc.written_weekday
        ),
        key=lambda d: abs((d - day).days),
    )
    rest = _WEEKDAY_TOKEN.sub("", text, count=1)
    options = [
        Button(fmt_date(d), " ".join(f"{retry} {d:%Y/%m/%d} {rest}".split())) for d in (day, other)
    ]
    return ask(
        ctx,
        f"{fmt_date(day, year=True)}は{WEEKDAYS[day.weekday()]}曜日です。"
        f"書かれた曜日（{WEEKDAYS[exc.written_weekday]}）と合いません。どちらの日ですか？",
        options,
        command=command,
    )
