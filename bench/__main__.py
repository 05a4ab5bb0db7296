"""Run every benchmark on SQLite and, when DATABASE_URL names PostgreSQL, on it too.

    python -m bench --scale 1.0        # make bench
    python -m bench --scale 0.1        # make bench-quick

Prints a table and writes bench/results/latest.json (the keys are a contract: report.KEYS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from bench import due_query, intent, load, web_pages, webhook
from bench.bulk import build
from bench.clock_run import clock_figures
from bench.databases import RESULTS, Database, postgres_database, sqlite_database
from bench.dataset import TOKYO, Spec
from bench.report import KEYS, machine, table
from storage.db import upgrade

SCHEDULER_KEYS = KEYS[4:9]
WEB_KEYS = ("web_overview_p95_ms", "report_xlsx_s")


def say(message: str) -> None:
    print(message, flush=True)


def budgets(scale: float) -> dict[str, float]:
    """Seconds and rounds: the quick run must stay under three minutes on two cores."""
    quick = scale <= 0.1
    return {
        "due_rounds": 120 if quick else 300,
        "webhook_seconds": 5 if quick else 15,
        "webhook_warmup": 1 if quick else 2,
        "deliver_budget_s": 10 if quick else 60,
        "month_budget_s": 10 if quick else 300,
        "plan_repeats": 1 if quick else 3,
        "clock_limit_s": 60 if quick else 1100,  # quick: the month reaches its Monday digests
        "throttled_budget_s": 5 if quick else 15,
        "load_seconds": 10 if quick else 60,
        "web_rounds": 30 if quick else 100,
    }


STEPS = ("due", "webhook", "clock", "web")
WEBHOOK_KEYS, DUE_KEYS = KEYS[:2], KEYS[2:4]


def ensure_data(db: Database, spec: Spec, *, reuse: bool) -> dict[str, Any]:
    """Build the data set, or keep the one a previous run built with the same scale and seed."""
    marker = RESULTS / "db" / f"{db.kind}-spec.json"
    wanted = {"scale": spec.scale, "seed": spec.seed, "today": spec.today.isoformat()}
    if reuse and marker.exists() and json.loads(marker.read_text()).get("spec") == wanted:
        say(f"[{db.kind}] reusing the data set built earlier (scale {spec.scale:g})")
        for url in db.urls.values():  # a newer migration since it was built
            upgrade(url)
        return json.loads(marker.read_text())  # type: ignore[no-any-return]
    say(f"[{db.kind}] building the data set (scale {spec.scale:g}, seed {spec.seed})")
    marker.unlink(missing_ok=True)
    t0 = time.perf_counter()
    built = {"spec": wanted, "rows": build(db, spec, say=say)}
    built["build_seconds"] = round(time.perf_counter() - t0, 1)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(built))
    return built


def run_database(
    db: Database,
    spec: Spec,
    limits: dict[str, float],
    tag: str,
    *,
    steps: tuple[str, ...] = STEPS,
    reuse: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    figures: dict[str, Any] = dict.fromkeys(KEYS)
    details: dict[str, Any] = {}
    notes: list[str] = []
    built = ensure_data(db, spec, reuse=reuse)
    details["rows"], details["build_seconds"] = built["rows"], built.get("build_seconds")
    if "due" in steps:
        _due(db, spec, limits, figures, details, notes)
    if "webhook" in steps:
        _webhook(db, spec, limits, tag, figures, details)
    if "clock" in steps:
        _clock(db, spec, limits, figures, details, notes)
    if "web" in steps:
        say(f"[{db.kind}] web: a secretariat's overview, the 推進会議 workbook")
        web = web_pages.run(db, spec, rounds=int(limits["web_rounds"]))
        details |= web.pop("details")
        figures |= web
    return figures, details, notes


def _due(
    db: Database,
    spec: Spec,
    limits: dict[str, float],
    figures: dict[str, Any],
    details: dict[str, Any],
    notes: list[str],
) -> None:
    say(f"[{db.kind}] due query for contacts on 50+ agreements")
    due = due_query.run(db, spec, rounds=int(limits["due_rounds"]))
    details |= due.pop("details")
    figures |= due
    if details.get("due_query_errors"):
        notes.append(
            f"due_for_contact raised on {details['due_query_errors']} calls: {details['due_query_first_error']}"
        )


def _webhook(
    db: Database,
    spec: Spec,
    limits: dict[str, float],
    tag: str,
    figures: dict[str, Any],
    details: dict[str, Any],
) -> None:
    say(f"[{db.kind}] webhooks: Renkei vs bare, gunicorn, 20 clients")
    now = datetime.combine(spec.today, dtime(9, 0), TOKYO)
    hooks = webhook.run(
        db,
        now=now,
        seconds=limits["webhook_seconds"],
        warmup=limits["webhook_warmup"],
        tag=f"{tag}-{db.kind}",
    )
    details |= hooks.pop("details")
    figures |= hooks


def _clock(
    db: Database,
    spec: Spec,
    limits: dict[str, float],
    figures: dict[str, Any],
    details: dict[str, Any],
    notes: list[str],
) -> None:
    say(f"[{db.kind}] scheduler: plan, deliver, a simulated month (own process)")
    clock = clock_figures(db, spec, limits)
    details |= {
        f"clock_{k}"
        if not k.startswith(("plan", "deliver", "month", "clock", "throttled"))
        else k: v
        for k, v in clock.pop("details", {}).items()
    }
    for key in SCHEDULER_KEYS:
        figures[key] = clock.get(key)
    if "pending" in clock:
        notes.append(clock["pending"])
        figures["clock_rss_mb"] = None  # nothing was scheduled: its memory says nothing yet
        details["clock_rss_mb_without_scheduler"] = clock.get("clock_rss_mb")
    if "error" in clock:
        notes.append(f"clock benchmark failed: {clock['error']}")
    if "stopped" in clock:
        notes.append(f"clock benchmark {clock['stopped']}")


def _earlier(path: Path, scale: float) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if data.get("scale") == scale else {}  # type: ignore[no-any-return]


def _keep(
    earlier: dict[str, Any], kind: str, figures: dict[str, Any], steps: tuple[str, ...]
) -> list[str]:
    """Figures of the steps not run this time, taken from the earlier run of the same scale."""
    if kind not in earlier:
        return []
    skipped = [
        k
        for step, keys in (("due", DUE_KEYS), ("webhook", WEBHOOK_KEYS))
        if step not in steps
        for k in keys
    ]
    if "clock" not in steps:
        skipped += list(SCHEDULER_KEYS)
    if "web" not in steps:
        skipped += list(WEB_KEYS)
    for key in skipped:
        figures[key] = earlier[kind].get(key)
    return skipped


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=Spec.seed)
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--no-load", action="store_true", help="skip the load scenario")
    parser.add_argument(
        "--only",
        default=",".join(STEPS),
        help="steps to run (due,webhook,clock); the other figures are kept from --out",
    )
    parser.add_argument(
        "--reuse-data", action="store_true", help="keep a data set built by an earlier run"
    )
    parser.add_argument(
        "--db",
        default="sqlite,postgresql",
        help="databases to run on (postgresql only when DATABASE_URL names one); "
        "the others' figures are kept from --out",
    )
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    spec = Spec(scale=args.scale, seed=args.seed)
    limits = budgets(args.scale)
    pg = postgres_database()
    started = time.perf_counter()
    tag = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    result: dict[str, Any] = {
        "scale": args.scale,
        "seed": args.seed,
        "data_set_today": spec.today.isoformat(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "machine": machine(pg.full if pg else None),
    }
    details: dict[str, Any] = {}
    notes: dict[str, list[str]] = {}
    say("[intent] understanding one message, over the battery, no database")
    understood = intent.run()
    result["intent_p95_ms"] = understood["intent_p95_ms"]
    details["intent"] = understood["details"]
    steps = tuple(x for x in args.only.split(",") if x in STEPS)
    earlier: dict[str, Any] = {}
    chosen = set(args.db.split(","))
    if len(chosen) < 2 or steps != STEPS:
        earlier = _earlier(args.out, args.scale)
    for kind in {"sqlite", "postgresql"} - chosen:
        if kind in earlier:  # not run this time: the earlier run's group, as it was
            result[kind], notes[kind] = earlier[kind], earlier.get("notes", {}).get(kind, [])
            details[kind] = earlier.get("details", {}).get(kind, {})
            notes[kind].append(f"kept from the run of {earlier['started_at']}")
    for db in [d for d in [sqlite_database(), pg] if d is not None and d.kind in chosen]:
        figures, details[db.kind], notes[db.kind] = run_database(
            db, spec, limits, tag, steps=steps, reuse=args.reuse_data
        )
        if earlier:  # details of the steps not run this time stay beside the new ones
            details[db.kind] = {**earlier.get("details", {}).get(db.kind, {}), **details[db.kind]}
        kept = _keep(earlier, db.kind, figures, steps)
        if kept:  # the earlier run's notes stay too: they explain the figures kept
            notes[db.kind] += [
                f"(earlier run) {n}" for n in earlier.get("notes", {}).get(db.kind, [])
            ]
            notes[db.kind].append(f"{', '.join(kept)} kept from the run of {earlier['started_at']}")
        result[db.kind] = figures
    if pg is None and "postgresql" not in result:
        notes["postgresql"] = ["not run: DATABASE_URL does not name a PostgreSQL database"]
    if pg is not None and not args.no_load and steps == STEPS and "postgresql" in chosen:
        say(
            f"[load] 200 liaisons for {limits['load_seconds']:.0f} s, gunicorn 4 workers on PostgreSQL"
        )
        details["load"] = load.run(pg, spec, seconds=limits["load_seconds"], tag=tag)
    elif "load" in earlier.get("details", {}):
        details["load"] = {**earlier["details"]["load"], "kept_from": earlier["started_at"]}
    result["notes"] = notes
    result["details"] = details
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n")
    say("")
    say(table(result))
    met = "met" if result["intent_p95_ms"] <= intent.GOAL_MS else "MISSED"
    say(f"intent_p95_ms {result['intent_p95_ms']} (goal <= {intent.GOAL_MS:g}: {met})")
    for db, lines in notes.items():
        for line in lines:
            say(f"note ({db}): {line}")
    if "load" in details:
        say(f"load: {json.dumps(details['load'].get('summary', {}), ensure_ascii=False)}")
    say(f"\nwrote {args.out} in {result['seconds']:.0f} s")


if __name__ == "__main__":
    main()
