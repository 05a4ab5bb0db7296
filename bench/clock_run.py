"""Running the scheduler's benchmark (bench/clock_bench.py) as the clock runs: a process of its
own, watched for memory and stopped at a time limit, keeping what it measured by then."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from bench.databases import RESULTS, Database
from bench.dataset import TOKYO, Spec
from bench.servers import stub


def clock_figures(db: Database, spec: Spec, limits: dict[str, float]) -> dict[str, Any]:
    """The scheduler's figures, from a process of its own, stopped at its time limit; its peak
    memory (clock_rss_mb) is watched from here too, so a stopped run still has it."""
    monday = datetime.combine(spec.today, dtime(8, 55), TOKYO)
    cfg_path = RESULTS / f"clock-{db.kind}-config.json"
    out_path = RESULTS / f"clock-{db.kind}.json"
    out_path.unlink(missing_ok=True)
    with stub(RESULTS / "logs" / "stub-clock.log") as api:
        cfg = {
            "urls": db.urls,
            "stub": api.url,
            "plan_now": monday.isoformat(),
            "deliver_budget_s": limits["deliver_budget_s"],
            "month_budget_s": limits["month_budget_s"],
            "plan_repeats": limits["plan_repeats"],
            "throttled_budget_s": limits["throttled_budget_s"],
        }
        cfg_path.write_text(json.dumps(cfg))
        peak, stopped = run_watched(
            [sys.executable, "-m", "bench.clock_bench", str(cfg_path), str(out_path)],
            RESULTS / "logs" / f"clock-{db.kind}.log",
            limits["clock_limit_s"],
        )
    result: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    result.setdefault("details", {})
    result["clock_rss_mb"] = max(peak, result.get("clock_rss_mb") or 0.0)
    if stopped:
        details = result["details"]
        if "month_days_simulated" in details or "plan_monday_digest_s" in details:
            phase = f"the simulated month (day {details.get('month_days_simulated', 0) + 1})"
        elif "plan_monday_digest_started" in details:
            phase = "the Monday 08:55 tick that plans the weekly digests"
        else:
            phase = "an earlier step"
        result["details"]["clock_stopped_at_limit_s"] = limits["clock_limit_s"]
        result.setdefault(
            "stopped", f"stopped at its {limits['clock_limit_s']:.0f} s limit, during {phase}"
        )
    if not out_path.exists():
        result["error"] = "the clock benchmark wrote nothing; see its log"
    return result


def run_watched(args: list[str], log: Path, limit_s: float) -> tuple[float, bool]:
    """Run a process for at most `limit_s`; returns (its peak RSS in MB, whether it was stopped)."""
    peak = 0.0
    with log.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + limit_s
    while proc.poll() is None and time.monotonic() < deadline:
        peak = max(peak, _vm_hwm_mb(proc.pid))
        time.sleep(0.5)
    stopped = proc.poll() is None
    if stopped:
        peak = max(peak, _vm_hwm_mb(proc.pid))
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return peak, stopped


def _vm_hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0
