"""Text normalisation and Japanese formatting shared by the commands."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

WEEKDAYS = "月火水木金土日"
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and spaces become ASCII) with whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def fmt_date(day: date, *, year: bool = False) -> str:
    head = f"{day.year}/{day.month}/{day.day}" if year else f"{day.month}/{day.day}"
    return f"{head}（{WEEKDAYS[day.weekday()]}）"


def fmt_datetime(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{fmt_date(local.date())} {local:%H:%M}"


def short_title(title: str) -> str:
    """「みなと市と株式会社アクメとの包括連携協定」→「みなと市と株式会社アクメ」."""
    for suffix in ("との包括連携協定", "包括連携協定", "との連携協定", "連携協定", "協定"):
        if title.endswith(suffix) and len(title) > len(suffix):
            return title[: -len(suffix)]
    return title


def fmt_number(value: object) -> str:
    """45 rather than 45.0000; 1.5 stays 1.5."""
    text = format(value, "f") if not isinstance(value, str) else value
    return text.rstrip("0").rstrip(".") if "." in text else text


def bar(ratio: float | None, width: int = 10) -> str:
    """■■■■■■□□□□ 62% — capped at a full bar, the percentage is not."""
    if ratio is None:
        return "（実績なし）"
    filled = max(0, min(width, int(ratio * width + 0.5)))  # half up: 25% shows 3 of 10
    return f"{'■' * filled}{'□' * (width - filled)} {round(ratio * 100)}%"
