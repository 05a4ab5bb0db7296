"""The demo agreement file, dated relative to today so it is never stale.

`config/demo.yaml` is an ordinary agreement file whose dates are written as
`{{ today+14d }}` or `{{ fy-2y }}` (1 April of the current fiscal year, two years back);
`render_demo` turns them into real dates before the file goes through the normal importer.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from dateutil.relativedelta import relativedelta

DEMO_FILE = Path(__file__).resolve().parent / "demo.yaml"
_TOKEN = re.compile(r"\{\{\s*(today|fy)((?:\s*[+-]\s*\d+\s*[dwmy])*)\s*\}\}")
_STEP = re.compile(r"([+-])\s*(\d+)\s*([dwmy])")
_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}


def render_demo(text: str, *, today: date) -> str:
    fiscal_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)

    def substitute(match: re.Match[str]) -> str:
        day = today if match.group(1) == "today" else fiscal_start
        for sign, amount, unit in _STEP.findall(match.group(2)):
            n = int(amount) if sign == "+" else -int(amount)
            day = day + relativedelta(**{_UNITS[unit]: n})
        return day.isoformat()

    return _TOKEN.sub(substitute, text)
