"""Text normalisation and Japanese formatting shared by the commands."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import jpholiday

from reminders.business_days import YEAR_END_CLOSED
from storage.ja_format import WEEKDAYS, fmt_date, fmt_datetime, short_title

__all__ = [
    "WEEKDAYS",
    "bar",
    "fmt_date",
    "fmt_datetime",
    "fmt_number",
    "normalize",
    "odd_day_note",
    "short_title",
]

_SPACES = re.compile(r"\s+")
# Control characters (ESC, NUL, DEL, C1) are no part of what anyone types: read as spaces, or
# 「TODO追加<ESC>2/2」 was a task titled ESC (found by tests/test_understanding.py's property).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Invisible characters a paste brings along (zero-width space, word joiner, BOM): dropped, or
# 「タスク 明日 <ZWSP>」 made a task with a title nobody can see. The zero-width joiner stays:
# emoji sequences need it.
_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff]")
# Slack's emoji codes (「:tada: 防災訓練おわりました」): a picture, not a word of the message.
_EMOJI_CODE = re.compile(r"(?<!\S)(?::[a-z0-9_+\-]{1,40}:)+(?!\S)")
# Full-width punctuation people type in titles, kept as typed: NFKC would turn （…） into (…)
# and the stored title would no longer be what the user wrote. Digits, letters, spaces, ／ and
# ： still become ASCII, so commands, dates and numbers parse alike.
_KEEP = "（）［］｛｝"


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and spaces become ASCII) with whitespace and control
    characters collapsed to one space; the full-width brackets and marks of _KEEP stay as typed."""
    folded = "".join(ch if ch in _KEEP else unicodedata.normalize("NFKC", ch) for ch in text)
    plain = _EMOJI_CODE.sub(" ", _INVISIBLE.sub("", folded))
    return _SPACES.sub(" ", _CONTROLS.sub(" ", plain)).strip()


def odd_day_note(day: date) -> str:
    """「12/19は土曜日です」 for a weekend, a 祝日 or the year-end closure; "" for a business day."""
    shown = fmt_date(day).split("（")[0]
    holiday = jpholiday.is_holiday_name(day)
    if holiday:
        return f"{shown}は祝日（{holiday}）です。"
    if (day.month, day.day) in YEAR_END_CLOSED:
        return f"{shown}は年末年始のお休み（12/29〜1/3）です。"
    if day.weekday() >= 5:
        return f"{shown}は{WEEKDAYS[day.weekday()]}曜日です。"
    return ""


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
