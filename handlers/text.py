"""Text normalisation and Japanese formatting shared by the commands."""

from __future__ import annotations

import re
import unicodedata

from storage.ja_format import WEEKDAYS, fmt_date, fmt_datetime, short_title

__all__ = ["WEEKDAYS", "bar", "fmt_date", "fmt_datetime", "fmt_number", "normalize", "short_title"]

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and spaces become ASCII) with whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


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
