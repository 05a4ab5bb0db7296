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


PREFILL_PROBE = """
import bench.clock_bench as cb
cb._PEAK_BEFORE_PREFILLS[0] = cb.peak_rss_mb()
start = cb.peak_rss_mb()
prefill = bytearray(200 * 1024 * 1024)
prefill[::4096] = b"a" * len(prefill[::4096])  # touched: resident
during = cb.peak_rss_mb()
del prefill
cb._unmeasured()
clock = bytearray(50 * 1024 * 1024)
clock[::4096] = b"a" * len(clock[::4096])
print(start, during, cb.peak_rss_mb())
"""


def test_the_benchmarks_own_prefill_is_not_the_clocks_peak() -> None:
    """clock_rss_mb is what the clock's work holds: the outbox the benchmark makes up first
    (days of every agreement at once) is left out, what the clock does after it is not."""
    out = subprocess.run(
        [sys.executable, "-c", PREFILL_PROBE], capture_output=True, text=True, check=True
    ).stdout.split()
    start, during, peak = map(float, out)
    assert during > start + 190  # the prefill was resident
    assert start + 40 < peak < start + 120  # the clock's 50 MB counts, the prefill's 200 do not
