"""The `clock:` process imports what the clock uses: no web app (Flask), no chart drawing
(matplotlib: the web process draws a chart on its first fetch), no Slack Bolt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_IN_THE_CLOCK = ("flask", "werkzeug", "matplotlib", "slack_bolt", "jinja2", "openpyxl")


def test_the_clock_entry_imports_neither_flask_nor_matplotlib() -> None:
    script = (
        "import json, sys\n"
        "import bot.clock_main\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "bot" in loaded and "sqlalchemy" in loaded and "apscheduler" in loaded
    assert loaded.isdisjoint(NOT_IN_THE_CLOCK), loaded & set(NOT_IN_THE_CLOCK)


def test_the_procfile_clock_runs_the_lean_entry() -> None:
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8")
    [clock] = [line for line in procfile.splitlines() if line.startswith("clock:")]
    assert clock.split(":", 1)[1].split() == ["python", "-m", "bot.clock_main"]
