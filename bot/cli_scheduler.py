"""`renkei clock`, `renkei reminders preview` and `renkei outbox list|retry`."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import AppGroup

from bot.renkei import current_renkei as _renkei
from reminders.planner import Planned, plan_notifications
from storage.db import transaction
from storage.outbox import list_rows, retry

if TYPE_CHECKING:
    pass

LINE_MESSAGES_PER_PUSH = 5


def register(app: Flask) -> None:
    app.cli.add_command(reminders)
    app.cli.add_command(outbox)


reminders = AppGroup("reminders", help="What the scheduler sends.")


def _moment(value: str | None, default: datetime, tz: ZoneInfo, name: str) -> datetime:
    if value is None:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or datetime", param_hint=name
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@reminders.command("preview", help="List what the rules would send in a window; writes nothing.")
@click.option("--from", "from_", metavar="ISO", help="Start (default: now).")
@click.option(
    "--to", "to", metavar="ISO", help="End, exclusive (default: 31 days after the start)."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array (send_at, recipient, ...).")
@click.option(
    "--summary",
    is_flag=True,
    help="Counts per kind, and the LINE messages coalescing saves if everyone used LINE.",
)
def preview(from_: str | None, to: str | None, as_json: bool, summary: bool) -> None:
    r = _renkei()
    tz = r.settings.tz
    now = r.clock()
    start = _moment(from_, now, tz, "--from")
    end = _moment(to, start + timedelta(days=31), tz, "--to")
    if end <= start:
        raise click.BadParameter("must be after --from", param_hint="--to")
    with r.sessions() as session:
        planned = plan_notifications(session, now=now, tz=tz, start=start, end=end)
        without = (
            plan_notifications(session, now=now, tz=tz, start=start, end=end, budget=False)
            if summary
            else []
        )
        session.rollback()  # a preview never writes
    if as_json:
        click.echo(json.dumps([p.as_json() for p in planned], ensure_ascii=False, indent=1))
    elif summary:
        _summary(planned, without)
    else:
        for p in planned:
            when = p.send_at.astimezone(tz)
            click.echo(
                f"{when:%Y-%m-%d %H:%M} {'月火水木金土日'[when.weekday()]}  {p.platform:<5} "
                f"{p.recipient:<14} {p.kind:<11} {p.agreement_key or '-':<16} {p.subject}"
            )
        click.echo(f"{len(planned)} notifications", err=True)


def coalescing(planned: list[Planned]) -> tuple[int, int]:
    """(pushes without coalescing, pushes with it) if every person and channel were on LINE.

    LINE bills a push per recipient, however many message objects (up to 5) it carries. A
    person's notifications due at the same moment go in one push: reminders share a carousel
    (one message object for up to 12), a digest takes its text, its cards and its chart."""
    groups: Counter[tuple[str, datetime]] = Counter()
    digests: Counter[tuple[str, datetime]] = Counter()
    for p in planned:
        key = (p.recipient, p.send_at)
        if p.kind == "digest":
            digests[key] += 1
        else:
            groups[key] += 1
    pushes = 0
    for key in set(groups) | set(digests):
        cost = -(-groups[key] // 12) + 3 * digests[key]
        pushes += -(-cost // LINE_MESSAGES_PER_PUSH)
    return len(planned), pushes


def _summary(planned: list[Planned], without: list[Planned]) -> None:
    """Counts per kind, with and without the attention budget, and the LINE pushes of each."""
    by_kind, before = Counter(p.kind for p in planned), Counter(p.kind for p in without)
    click.echo(f"{'kind':<12} {'budget':>7} {'without':>8}")
    for kind in sorted(set(by_kind) | set(before)):
        click.echo(f"{kind:<12} {by_kind[kind]:>7} {before[kind]:>8}")
    click.echo(f"{'total':<12} {len(planned):>7} {len(without):>8}")
    by_platform = Counter(p.platform for p in planned)
    click.echo("platforms: " + ", ".join(f"{k} {v}" for k, v in sorted(by_platform.items())))
    single, coalesced = coalescing(planned)
    click.echo(
        f"LINE pushes if everyone used LINE: {single} one per notification, "
        f"{coalesced} coalesced per recipient and moment; saved {single - coalesced}"
    )
    naive, pushes = coalescing(without)
    click.echo(
        f"attention budget: pushes {pushes} before, {coalesced} after "
        f"(notifications {naive} before, {single} after)"
    )


outbox = AppGroup("outbox", help="The notifications queue.")


@outbox.command("list", help="Recent outbox rows, newest first.")
@click.option("--failed", is_flag=True, help="Only rows that were given up on.")
@click.option("--limit", default=50, show_default=True)
def outbox_list(failed: bool, limit: int) -> None:
    r = _renkei()
    tz = r.settings.tz
    with r.sessions() as session:
        rows = list_rows(session, failed_only=failed, limit=limit)
    if not rows:
        click.echo("no failed rows" if failed else "the outbox is empty")
        return
    for row in rows:
        when = row.send_at.astimezone(tz)
        click.echo(
            f"{row.id:>6} {row.status:<9} {when:%Y-%m-%d %H:%M} {row.platform:<5} "
            f"{row.recipient:<14} {row.kind:<11} tries {row.attempts}  {row.subject[:60]}"
            + (f"\n       error: {row.error}" if row.error and row.status != "sent" else "")
        )


@outbox.command("retry", help="Send a failed row again (with the rest of its push).")
@click.argument("row_id", type=int)
def outbox_retry(row_id: int) -> None:
    r = _renkei()
    with transaction(r.sessions) as session:
        rows = retry(session, row_id, now=r.clock())
    if not rows:
        raise click.ClickException(f"row {row_id} is not a failed row")
    click.echo(f"row {row_id} is queued again ({len(rows)} notification(s) in its push)")
