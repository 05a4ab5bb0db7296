"""The figures' contract (bench/results/latest.json), the goals, the machine and the table."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

# The keys of every database's group in latest.json, in the order of the issue: a contract.
KEYS = (
    "webhook_ratio_vs_bare",
    "webhook_p95_ms",
    "due_query_p95_ms",
    "due_query_history_ratio",
    "plan_tick_s",
    "plan_tick_history_ratio",
    "deliver_per_s",
    "line_pushes_coalesced_vs_naive",
    "clock_rss_mb",
    "web_overview_p95_ms",
    "report_xlsx_s",
)
# (comparison, bound); None: reported, no goal.
GOALS: dict[str, tuple[str, float] | None] = {
    "webhook_ratio_vs_bare": (">=", 0.25),
    "webhook_p95_ms": None,
    "due_query_p95_ms": ("<=", 20),
    "due_query_history_ratio": ("<=", 1.3),
    "plan_tick_s": ("<=", 2),
    "plan_tick_history_ratio": ("<=", 1.3),
    "deliver_per_s": None,
    "line_pushes_coalesced_vs_naive": ("<=", 0.3),
    "clock_rss_mb": ("<=", 300),
    "web_overview_p95_ms": ("<=", 300),
    "report_xlsx_s": ("<=", 2),
}


def verdict(key: str, value: float | None) -> str:
    goal = GOALS[key]
    if value is None:
        return "not measured"
    if goal is None:
        return "-"
    op, bound = goal
    ok = value >= bound if op == ">=" else value <= bound
    return "met" if ok else "MISSED"


def machine(postgres_url: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _mem_gib(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
    }
    if postgres_url:
        engine = create_engine(postgres_url)
        with engine.connect() as conn:
            info["postgresql"] = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def table(result: dict[str, Any]) -> str:
    dbs = [db for db in ("sqlite", "postgresql") if db in result]
    goal_text = {k: f"{g[0]} {g[1]}" if g else "" for k, g in GOALS.items()}
    rows = [("figure", *dbs, "goal", *(f"{db}?" for db in dbs))]
    for key in KEYS:
        values = [result[db].get(key) for db in dbs]
        rows.append(
            (
                key,
                *("null" if v is None else f"{v:g}" for v in values),
                goal_text[key],
                *(verdict(key, v) for v in values),
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
