"""The scheduler's figures, measured in a process of their own, as the Procfile's clock runs.

Written against the scheduler's contract:
    bot.scheduler.plan(sessions, *, now, tz) -> int
    bot.scheduler.deliver(sessions, senders, *, now, tz) -> DeliveryStats
    reminders.planner.plan_notifications(session, *, now, tz, start, end) -> list[Planned]
imported lazily: while they are missing the figures are null with a "pending" note.

    python -m bench.clock_bench CONFIG.json OUT.json
"""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import importlib
import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench.dataset import TOKYO
from bench.servers import Stub
from bench.stub import LINE_PUSH_LIMIT
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Outbox
from storage.plan_mark import mark_planned

PLAN_REPEATS = 3
MONTH_DAYS = 30
# Ticks of the simulated month: reminders go out at 09:00 on business mornings
# (reminders/business_days.py), and 13:00 catches anything planned for later in the day.
TICK_HOURS = (9, 13)
PENDING = "pending: scheduler not built"
THROTTLED_PER_S = 20  # far below LINE's 2,000/s, so the deliverer meets 429s


_PEAK_BEFORE_PREFILLS = [0.0]  # VmHWM is reset after the benchmark's own prefills


def peak_rss_mb() -> float:
    """The most resident memory this process has had while doing a clock's work (Linux VmHWM;
    what the benchmark's prefills took is left out, see `_unmeasured`)."""
    return max(_PEAK_BEFORE_PREFILLS[0], _vm("VmHWM"))


def _vm(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _unmeasured() -> None:
    """After a prefill: it plans days of every agreement at once to make the outbox earlier
    ticks would have left (no clock ever does that), so its memory is not the clock's. The
    peak so far is kept, freed memory returned (gc, malloc_trim) and VmHWM reset to what the
    process still holds (Linux: clear_refs 5). The peak before it was kept by `prefill`."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
    except (OSError, AttributeError):  # not glibc, or not Linux: the peak includes the prefill
        pass


def _count(sessions: sessionmaker[Session], *where: Any) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Outbox).where(*where)) or 0)


def _clear_outbox(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        s.execute(delete(Outbox))


def prefill(sessions: sessionmaker[Session], *, now: datetime, until: datetime) -> int:
    """The outbox as earlier ticks would have left it: everything planned before `until`,
    already sent. Placeholders (no message composed): a steady-state tick only skips them."""
    _PEAK_BEFORE_PREFILLS[0] = peak_rss_mb()
    try:
        return _prefill(sessions, now=now, until=until)
    finally:
        _unmeasured()


def _prefill(sessions: sessionmaker[Session], *, now: datetime, until: datetime) -> int:
    from bot.scheduler import outbox_row
    from reminders.planner import plan_notifications

    _clear_outbox(sessions)
    lookback = getattr(importlib.import_module("bot.scheduler"), "LOOKBACK", timedelta(days=8))
    index: dict[int, datetime] = {}  # each agreement's next moment, as those ticks kept it
    with transaction(sessions) as s:
        planned = plan_notifications(
            s, now=now, tz=TOKYO, start=until - lookback, end=until, **_index_args(until, index)
        )
        rows = [
            {
                **outbox_row(p, {}, now=p.send_at),
                "status": "sent",
                "attempts": 1,
                "sent_at": p.send_at,
            }
            for p in {p.dedupe_key: p for p in planned}.values()
        ]
        for i in range(0, len(rows), 5_000):
            s.execute(insert(Outbox), rows[i : i + 5_000])
        mark_planned(s, until)  # and the planner's mark where those ticks left it
        if index:  # and the index of next moments (storage.plan_index)
            plan_index = importlib.import_module("storage.plan_index")
            plan_index.record(
                s,
                planned_from=until,
                next_at=index,
                seen=plan_index.changes(s),
                rules=importlib.import_module("reminders.planner").RULES_VERSION,
            )
    return len(rows)


def _index_args(until: datetime, index: dict[int, datetime]) -> dict[str, Any]:
    """The planner's index arguments, when the scheduler keeps one (INDEX_AHEAD)."""
    ahead = getattr(importlib.import_module("bot.scheduler"), "INDEX_AHEAD", None)
    return {} if ahead is None else {"horizon": until + ahead, "next_at": index}


def _forget_new(sessions: sessionmaker[Session], until: datetime) -> None:
    """Undo a measured tick: drop what it planned, keep the prefilled history and mark."""
    with transaction(sessions) as s:
        s.execute(delete(Outbox).where(Outbox.status != "sent"))
        mark_planned(s, until)


def senders(stub_url: str) -> dict[str, Any]:
    """The senders the clock process builds (bot.clock_main.senders_for), pointed at the stub:
    what this process imports is what the clock imports, so its memory is the clock's."""
    from bot.clock_main import senders_for
    from config import load_settings

    return dict(
        senders_for(
            load_settings(
                line_channel_secret="bench-line-secret",
                line_channel_access_token="bench-line-access-token",
                line_api_endpoint=stub_url,
                slack_signing_secret="bench-slack-secret",
                slack_bot_token="xoxb-bench",
                slack_api_url=f"{stub_url}/api/",
                public_base_url=stub_url,
            )
        )
    )


def time_plan(
    plan: Callable[..., int],
    sessions: dict[str, sessionmaker[Session]],
    now: datetime,
    repeats: int,
) -> dict[str, Any]:
    """The 09:00 tick of a business morning in steady state (earlier ticks' rows prefilled):
    median of a few runs per history size, interleaved; then a re-run, which plans nothing."""
    runs: dict[str, list[float]] = {"full": [], "tenth": []}
    planned: dict[str, int] = {}
    until = now.replace(hour=8, minute=0)
    prefilled = {v: prefill(sessions[v], now=now, until=until) for v in runs}
    for i in range(repeats):
        for variant in ("full", "tenth") if i % 2 == 0 else ("tenth", "full"):
            _forget_new(sessions[variant], until)
            t0 = time.perf_counter()
            planned[variant] = plan(sessions[variant], now=now, tz=TOKYO)
            runs[variant].append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    again = plan(sessions["full"], now=now, tz=TOKYO)
    full, tenth = statistics.median(runs["full"]), statistics.median(runs["tenth"])
    return {
        "plan_tick_s": round(full, 3),
        "plan_tick_history_ratio": round(full / tenth, 3) if tenth else None,
        "details": {
            "plan_tick_s_tenth": round(tenth, 3),
            "plan_rows_planned": planned,
            "plan_rows_prefilled": prefilled,
            "plan_rerun_s": round(time.perf_counter() - t0, 3),
            "plan_rerun_rows": again,
        },
    }


def drain(
    deliver: Callable[..., Any],
    sessions: sessionmaker[Session],
    send: Mapping[str, Any],
    start: datetime,
    budget_s: float,
) -> tuple[int, float, list[Any]]:
    """Deliver until nothing moves for a few calls (Retry-After waits included) or the budget
    ends; the clock runs from `start` at real speed. Returns (rows sent, seconds, stats)."""
    sent0 = _count(sessions, Outbox.status == "sent")
    t0 = time.perf_counter()
    last_progress, idle, all_stats = t0, 0, []
    sent = sent0
    while time.perf_counter() - t0 < budget_s and idle < 3:
        now = start + timedelta(seconds=time.perf_counter() - t0)
        all_stats.append(deliver(sessions, send, now=now, tz=TOKYO))
        moved = _count(sessions, Outbox.status == "sent")
        if moved > sent:
            sent, idle, last_progress = moved, 0, time.perf_counter()
        else:
            idle += 1
            time.sleep(0.4)  # a 429's Retry-After is a second: let it pass before giving up
    return sent - sent0, max(last_progress - t0, 1e-9), all_stats


def month(
    plan: Callable[..., int],
    deliver: Callable[..., Any],
    sessions: sessionmaker[Session],
    stub: Stub,
    send: Mapping[str, Any],
    first: datetime,
    budget_s: float,
    save: Callable[[dict[str, Any]], None],
) -> None:
    """A simulated month of ticks: LINE messages billed with coalescing vs one per reminder.
    Saved after every simulated day, so a budget or a kill keeps the days done."""
    _forget_new(sessions, first.replace(hour=8, minute=0))
    stub.reset()
    old = _count(sessions, Outbox.status == "sent", Outbox.platform == "line")
    t0 = time.perf_counter()
    reached: dict[str, int] = {}  # LINE address → days it got a push (person or group)
    for day in range(MONTH_DAYS):
        for hour in TICK_HOURS:
            now = (first + timedelta(days=day)).replace(hour=hour, minute=0)
            plan(sessions, now=now, tz=TOKYO)
            for _ in range(50):  # until this tick's due rows are out
                before = _count(sessions, Outbox.status == "sent")
                deliver(sessions, send, now=now, tz=TOKYO)
                if _count(sessions, Outbox.status == "sent") == before:
                    break
        line_rows = _count(sessions, Outbox.status == "sent", Outbox.platform == "line") - old
        billed = int(stub.stats().get("push_billed", 0))
        for address in _line_addresses_sent(sessions, first + timedelta(days=day)):
            reached[address] = reached.get(address, 0) + 1
        save(
            {
                "line_pushes_coalesced_vs_naive": round(billed / line_rows, 3)
                if line_rows
                else None,
                "details": {
                    "month_days_simulated": day + 1,
                    "month_line_reminders": line_rows,
                    "month_line_messages_billed": billed,
                    # Why the figure is what it is: a push per address and day is the most
                    # coalescing can do, and a push per address in the whole span its floor.
                    "month_line_recipient_days": sum(reached.values()),
                    "month_line_recipients": len(reached),
                    "month_line_group_rows": _count(
                        sessions,
                        Outbox.status == "sent",
                        Outbox.platform == "line",
                        Outbox.recipient.like("line:%"),
                        Outbox.sent_at >= first.replace(hour=8, minute=0),
                    ),
                    "month_seconds": round(time.perf_counter() - t0, 1),
                },
            }
        )
        if time.perf_counter() - t0 > budget_s:
            break


def _line_addresses_sent(sessions: sessionmaker[Session], day: datetime) -> set[str]:
    """The LINE addresses (people and groups) the simulated `day` sent to."""
    start = day.replace(hour=0, minute=0)
    with sessions() as s:
        return set(
            s.scalars(
                select(Outbox.address)
                .where(Outbox.status == "sent", Outbox.platform == "line")
                .where(Outbox.sent_at >= start, Outbox.sent_at < start + timedelta(days=1))
                .distinct()
            )
        )


def _jsonable(stats: Any) -> Any:
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        return dataclasses.asdict(stats)
    return getattr(stats, "__dict__", repr(stats))


def run(cfg: dict[str, Any], out: dict[str, Any], save: Callable[[dict[str, Any]], None]) -> None:
    """Each step saves its figures as soon as it has them: the parent may stop this process at
    its time limit, and what was measured by then is kept. The cheap steps come first."""
    urls: dict[str, str] = cfg["urls"]
    # built as the clock builds its engine (bot/clock_main.py)
    prepared = getattr(importlib.import_module("bot.clock_main"), "CLOCK_PREPARED_STATEMENTS", 128)
    sessions = {
        v: make_session_factory(make_engine(u, prepared_statements=prepared))
        for v, u in urls.items()
    }
    monday = datetime.fromisoformat(cfg["plan_now"])  # the data set's Monday, 08:55
    # A business morning without the weekly digest: Tuesday's 09:00 tick.
    tuesday = (monday + timedelta(days=1)).replace(hour=9, minute=0)
    try:
        reminders = importlib.import_module("reminders.planner")
        with sessions["full"]() as s:
            t0 = time.perf_counter()
            planned = reminders.plan_notifications(
                s, now=tuesday, tz=TOKYO, start=tuesday, end=tuesday + timedelta(days=1)
            )
            save(
                {
                    "details": {
                        "plan_notifications_day_s": round(time.perf_counter() - t0, 3),
                        "plan_notifications_day_rows": len(planned),
                    }
                }
            )
    except Exception as exc:  # a work in progress elsewhere must not stop the other figures
        save({"details": {"plan_notifications_error": f"{type(exc).__name__}: {exc}"}})
    try:
        scheduler = importlib.import_module("bot.scheduler")
        plan, deliver = scheduler.plan, scheduler.deliver
    except (ImportError, AttributeError) as exc:
        save({"pending": f"{PENDING} ({exc})"})
        return
    stub = Stub(cfg["stub"])
    send = senders(cfg["stub"])
    if cfg.get("mode") == "digest":  # the load scenario's clock: Monday's tick, then deliver
        prefill(sessions["full"], now=monday, until=monday.replace(hour=8, minute=0))
        t0 = time.perf_counter()
        save({"details": {"digest_planning": True}})
        rows = plan(sessions["full"], now=monday, tz=TOKYO)
        save(
            {
                "details": {
                    "digest_planned_rows": rows,
                    "digest_plan_s": round(time.perf_counter() - t0, 1),
                }
            }
        )
        sent, seconds, _ = drain(
            deliver,
            sessions["full"],
            send,
            monday.replace(hour=9, minute=0),
            cfg["deliver_budget_s"],
        )
        save({"deliver_rows_sent": sent, "deliver_seconds": round(seconds, 2)})
        return
    # 1. One planning run over all agreements on a regular business morning, both histories.
    save(time_plan(plan, sessions, tuesday, int(cfg.get("plan_repeats", PLAN_REPEATS))))
    # 2. Deliver what that tick planned (still pending on the full history), from 09:00 on,
    # against LINE's rate limit.
    stub.reset()
    sent, seconds, stats = drain(
        deliver, sessions["full"], send, tuesday.replace(hour=9, minute=0), cfg["deliver_budget_s"]
    )
    save(
        {
            "deliver_per_s": round(sent / seconds, 1) if sent else None,
            "details": {
                "deliver_rows_sent": sent,
                "deliver_seconds": round(seconds, 2),
                "deliver_stub": stub.stats(),
                "deliver_last_stats": _jsonable(stats[-1]) if stats else None,
            },
        }
    )
    # 2b. The same tick against a LINE limit the deliverer does exceed (THROTTLED_PER_S): every
    # 429 must be retried after Retry-After, and no push shown twice (LINE's 409 on a retry key).
    prefill(sessions["tenth"], now=tuesday, until=tuesday.replace(hour=8, minute=0))
    plan(sessions["tenth"], now=tuesday, tz=TOKYO)
    stub.reset()
    stub.configure(push_per_s=THROTTLED_PER_S)
    sent, seconds, _ = drain(
        deliver, sessions["tenth"], send, tuesday, cfg.get("throttled_budget_s", 15)
    )
    throttled = stub.stats()
    stub.configure(push_per_s=LINE_PUSH_LIMIT)
    backed_off = _count(sessions["tenth"], Outbox.status.in_(("pending", "sending")))
    for _ in range(20):  # an hour later the backed-off rows go out
        deliver(sessions["tenth"], send, now=tuesday + timedelta(hours=1), tz=TOKYO)
        if not _count(sessions["tenth"], Outbox.status.in_(("pending", "sending"))):
            break
    after = stub.stats()
    save(
        {
            "details": {
                "throttled_push_per_s": THROTTLED_PER_S,
                "throttled_rows_sent": sent,
                "throttled_seconds": round(seconds, 2),
                "throttled_429": throttled.get("push_429", 0),
                "throttled_line_pushes": throttled.get("push_requests", 0),
                "throttled_rows_backed_off": backed_off,
                "throttled_rows_left_an_hour_later": _count(
                    sessions["tenth"], Outbox.status.in_(("pending", "sending"))
                ),
                "throttled_rows_failed": _count(sessions["tenth"], Outbox.status == "failed"),
                # LINE answers 409 to a retry key it already accepted: a push that would
                # otherwise have been shown twice.
                "throttled_409_retry_key_seen": after.get("push_409_retried_key", 0),
            }
        }
    )
    # 3. Monday 08:55, the weekly digests: the heaviest tick (composing every digest).
    prefill(sessions["full"], now=monday, until=monday.replace(hour=8, minute=0))
    save({"details": {"plan_monday_digest_started": True}})
    t0 = time.perf_counter()
    rows = plan(sessions["full"], now=monday, tz=TOKYO)
    save(
        {
            "details": {
                "plan_monday_digest_s": round(time.perf_counter() - t0, 1),
                "plan_monday_digest_rows": rows,
            }
        }
    )
    # 4. A simulated month from that Tuesday: what LINE bills, coalesced vs one per reminder;
    # last, as it runs until its budget is spent.
    prefill(sessions["tenth"], now=tuesday, until=tuesday.replace(hour=8, minute=0))
    month(plan, deliver, sessions["tenth"], stub, send, tuesday, cfg["month_budget_s"], save)


def main() -> None:
    cfg = json.loads(Path(sys.argv[1]).read_text())
    target = Path(sys.argv[2])
    result: dict[str, Any] = {"details": {}}

    def save(part: dict[str, Any]) -> None:
        result["details"].update(part.pop("details", {}))
        result.update(part)
        result["clock_rss_mb"] = peak_rss_mb()
        steps = result["details"].setdefault("clock_rss_mb_by_save", [])
        steps.append([sorted(part)[:2], peak_rss_mb(), _vm("VmRSS")])  # where the peak came
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
        tmp.replace(target)  # whole files only: the parent may read at any moment

    try:
        run(cfg, result, save)
    except Exception as exc:
        traceback.print_exc()
        save({"error": f"{type(exc).__name__}: {exc}"})
    save({})


if __name__ == "__main__":
    main()
