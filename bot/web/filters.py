"""Jinja filters: Japanese dates in Asia/Tokyo, numbers and percentages, as chat shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint

from bot.renkei import current_renkei
from handlers.commands.log import describe_counts
from handlers.text import fmt_number
from storage.ja_format import fmt_date, fmt_datetime, short_title


def _tz() -> Any:
    return current_renkei().settings.tz


def jdate(day: date | None, year: bool = True) -> str:
    return fmt_date(day, year=year) if day else "—"


def jdatetime(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(_tz())
    return f"{local.year}/{fmt_datetime(moment, _tz())}"


def pct(ratio: float | None) -> str:
    return f"{round(ratio * 100)}%" if ratio is not None else "—"


def num(value: Any) -> str:
    return fmt_number(value) if value is not None else "—"


def counts(value: dict[str, Any] | None) -> str:
    """参加者45人: the counts of an activity, written as chat writes them."""
    return describe_counts(value or {}).strip()


def register_filters(web: Blueprint) -> None:
    for name, f in {
        "jdate": jdate,
        "jdatetime": jdatetime,
        "pct": pct,
        "num": num,
        "short": short_title,
        "counts": counts,
    }.items():
        web.add_app_template_filter(f, name)
