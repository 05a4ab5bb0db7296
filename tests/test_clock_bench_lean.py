"""The clock benchmark measures the lean clock (bot/clock_main.py), not the web app: its
process imports what the clock imports, and builds its senders with the clock's own code."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import bench.clock_bench as cb
send = cb.senders("http://127.0.0.1:9")
import bot.scheduler, reminders.planner
web = sorted({m.split(".")[0] for m in sys.modules} & {"flask", "werkzeug", "slack_bolt", "matplotlib"})
print(",".join(web) or "-", ",".join(sorted(send)), type(send["line"]).__module__)
"""


def test_the_clock_benchmark_imports_no_web_stack() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["-", "line,local,slack", "bot.senders"]
