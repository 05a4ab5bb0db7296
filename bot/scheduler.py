"""The clock's two jobs: `plan` (what is due → outbox rows, once) and `deliver` (outbox rows →
one push per recipient, with retries that never show anything twice)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import Batch, Outcome, attempt_send
from bot.digest import (
    DigestCache,
    agreement_digest,
    payload,
    person_digest,
    prepare_digests,
    review_summary,
)
from bot.render_batch import line_cost, slack_cost
from bot.senders import Notice, Sender
from handlers.messages import Button, Card, Reply
from reminders import run_caches
from reminders.business_days import in_office_hours
from reminders.keys import ItemKey
from reminders.planner import RULES_VERSION, Planned, plan_notifications
from reminders.state import unwanted
from storage import plan_index
from storage.clock_status import record_plan
from storage.db import read_only, transaction
from storage.events import KEEP_EVENTS, purge_events
from storage.handovers import apply_due_handovers
from storage.models import Agreement, ChartImage, Contact, Outbox
from storage.outbox import (
    MAX_ATTEMPTS,
    assign_batch,
    cancel,
    claim,
    existing_keys,
    insert_new,
    mark_failed,
    mark_retry,
    mark_sent,
)
from storage.plan_mark import mark_planned, planned_until

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=8)  # catch-up reach after downtime (a long holiday and more)
AHEAD = timedelta(minutes=10)  # planned a little early, so the deliverer sends on the minute
# How far each agreement's next moment is looked for (storage.plan_index): one with nothing
# due is worked out again at the latest this much later.
INDEX_AHEAD = timedelta(days=21)
CHART_KEEP = timedelta(days=90)
CHUNK = 2000  # outbox rows composed and inserted at a time
LINE_CAPACITY = 5  # message objects per push
SLACK_CAPACITY = 50  # blocks per message


# --- plan ---------------------------------------------------------------------------------


def plan(sessions: sessionmaker[Session], *, now: datetime, tz: ZoneInfo) -> int:
    """Insert every notification due by now (and the next few minutes) that is not in the
    outbox yet. Re-running is a no-op (unique dedupe key); after downtime it catches up, still
    once: of an item's missed reminders to a person only the latest is sent, and nothing whose
    moment has passed (a meeting that began, a deadline gone by) is sent late."""
    # Computing and composing only read; the writes are short transactions of a chunk of rows
    # each, so on SQLite chat messages are not kept waiting behind a whole tick, and Monday's
    # thousands of digests are never all in memory at once. The mark moves last: a run stopped
    # halfway is run again by the next tick, and the unique keys skip what it had inserted.
    run_caches.forget()  # what the last run worked out is not asked again
    start, end = now - LOOKBACK, now + AHEAD
    inserted = 0
    failures: list[str] = []  # items skipped (logged each); counted in /healthz
    with transaction(sessions) as session:  # a 担当変更 「4月1日から」 takes effect on its day
        apply_due_handovers(session, today=now.astimezone(tz).date(), now=now)
    with read_only(sessions) as session:
        mark = planned_until(session)
        # A mark ahead of this window is a clock set back (or a test going back in time):
        # then nothing is taken as planned.
        recent = mark if mark is not None and mark <= end else None
        seen = plan_index.changes(session)  # writes recorded before this read
        next_at: dict[int, datetime] = {}
        planned = plan_notifications(
            session,
            now=now,
            tz=tz,
            start=start,
            end=end,
            recent=recent,
            failures=failures,
            # Only the agreements with a moment due (or changed) are worked out; their next
            # moments are kept for the following ticks.
            due=plan_index.due(recent, end, RULES_VERSION) if recent is not None else None,
            horizon=end + INDEX_AHEAD,
            next_at=next_at,
        )
        planned = due_now(planned, now)
        known = existing_keys(session, [p.dedupe_key for p in planned])
        fresh = [p for p in planned if p.dedupe_key not in known]
        del planned, known
        cache = DigestCache()
        digests = [p for p in fresh if p.kind == "digest"]
        try:
            prepare_digests(
                session,
                {p.agreement_key for p in digests if p.agreement_key is not None},
                {p.recipient for p in digests if p.agreement_key is None},
                now=now,
                tz=tz,
                cache=cache,
            )
        except Exception:  # digests are then composed one by one, each isolated below
            log.exception("planner: could not prepare the digests")
            failures.append("digests")
        for i in range(0, len(fresh), CHUNK):
            rows = [
                row
                for p in fresh[i : i + CHUNK]
                if (
                    row := _isolated_row(session, p, now=now, tz=tz, cache=cache, failures=failures)
                )
            ]
            with transaction(sessions) as writer:
                if cache.new_charts:
                    writer.execute(insert(ChartImage), cache.new_charts)
                    cache.new_charts.clear()
                inserted += insert_new(writer, rows)
    with transaction(sessions) as session:
        plan_index.record(
            session, planned_from=end, next_at=next_at, seen=seen, rules=RULES_VERSION
        )
        mark_planned(session, end)
        record_plan(session, now, failures=len(failures))
        purged = purge_events(session, now=now)
        if cache.charts:  # LINE fetches a chart when the digest arrives; a quarter later, nobody
            session.execute(delete(ChartImage).where(ChartImage.created_at < now - CHART_KEEP))
    if inserted:
        log.info("planned %d notifications", inserted)
    if purged:
        log.info("forgot %d processed event ids older than %s", purged, KEEP_EVENTS)
    if failures:
        log.error("planner skipped %d items this run: %s", len(failures), ", ".join(failures[:20]))
    return inserted


def _isolated_row(
    session: Session,
    p: Planned,
    *,
    now: datetime,
    tz: ZoneInfo,
    cache: DigestCache,
    failures: list[str],
) -> dict[str, Any] | None:
    """The outbox row of one notification, or None (logged, counted) when it cannot be made."""
    try:
        return _row(session, p, now=now, tz=tz, cache=cache)
    except Exception:  # one bad item must not stop every other agreement's reminders
        log.exception("planner: could not compose %s for %s", p.item_key, p.recipient)
        failures.append(p.item_key)
        return None


def due_now(planned: Sequence[Planned], now: datetime) -> list[Planned]:
    """Drop what is stale, and what a later reminder of the same item to the same person has
    superseded (weekly nags missed during downtime are not sent in a burst)."""
    latest: dict[tuple[str, str, str], datetime] = {}
    for p in planned:
        if p.send_at <= now:
            key = (p.item_key, p.recipient, p.kind)
            latest[key] = max(latest.get(key, p.send_at), p.send_at)
    return [
        p
        for p in planned
        if (p.stale_after is None or now < p.stale_after)
        and (p.send_at > now or latest[(p.item_key, p.recipient, p.kind)] == p.send_at)
    ]


def _row(
    session: Session, p: Planned, *, now: datetime, tz: ZoneInfo, cache: DigestCache
) -> dict[str, Any]:
    return outbox_row(p, compose(session, p, now=now, tz=tz, cache=cache), now=now)


def outbox_row(p: Planned, payload: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """The outbox row of a planned notification, pending (the benchmark builds its history
    with this too)."""
    return {
        "dedupe_key": p.dedupe_key,
        "recipient": p.recipient,
        "platform": p.platform,
        "address": p.address,
        "kind": p.kind,
        "item_key": p.item_key,
        "agreement_key": p.agreement_key,
        "subject": p.subject[:300],
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "send_at": p.send_at,
        "next_attempt_at": p.send_at,
        "created_at": now,
    }


def compose(
    session: Session, p: Planned, *, now: datetime, tz: ZoneInfo, cache: DigestCache
) -> dict[str, Any]:
    """The message of one notification, fixed at planning time so every retry is identical."""
    if p.kind == "digest":
        if p.agreement_key is not None:
            agreement = session.scalar(select(Agreement).where(Agreement.key == p.agreement_key))
            assert agreement is not None
            return agreement_digest(
                session, agreement, subject=p.subject, now=now, tz=tz, cache=cache
            )
        contact = session.scalar(select(Contact).where(Contact.key == p.recipient))
        assert contact is not None
        return person_digest(
            session, contact, subject=p.subject, now=now, tz=tz, cache=cache, only=p.detail
        )
    items = list(p.detail)
    ref = ItemKey.parse(p.item_key)
    if p.kind == "review" and ref is not None and ref.day is not None:
        agreement = session.get(Agreement, ref.id)
        if agreement is not None:
            items += review_summary(session, agreement, term_end=ref.day, now=now, tz=tz)
    if ref is None:
        return payload(p.subject, items=items)
    if ref.kind == "action_item":  # the task itself is closed with the chat command 完了
        done = ("完了", f"完了 {ref.id}")
    else:
        done = ("対応済み", f"対応済み {ref.key}")
    return payload(p.subject, items=items, buttons=[done, ("スヌーズ", f"スヌーズ {ref.key}")])


# --- deliver ------------------------------------------------------------------------------


@dataclass
class DeliveryStats:
    claimed: int = 0  # rows taken this run
    pushes: int = 0  # platform sends that succeeded (one per recipient and batch)
    sent: int = 0  # rows delivered
    retried: int = 0  # rows put back for a later attempt
    failed: int = 0  # rows given up on (`renkei outbox list --failed`)
    cancelled: int = 0  # rows whose item was settled before they went out
    errors: list[str] = field(default_factory=list)


def deliver(
    sessions: sessionmaker[Session],
    senders: Mapping[str, Sender],
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int = 500,
) -> DeliveryStats:
    """Claim due rows, coalesce them per recipient, send, and record each outcome.

    Outside office hours on business days nothing is sent, whatever is due: rows that a clock
    down since the morning (or a retry after 18:00) left waiting go out the next business
    morning, never at night."""
    token = str(uuid.uuid4())
    stats = DeliveryStats()
    if not in_office_hours(now, tz):
        return stats
    with transaction(sessions) as session:
        rows = claim(session, now=now, token=token, limit=limit)
        stats.claimed = len(rows)
        fresh = [r for r in rows if r.batch_key is None]
        settled = unwanted(session, fresh)
        cancel(session, [r for r in fresh if r.id in settled], "settled before it was sent")
        stats.cancelled = len(settled)
        batches = _batches(session, [r for r in rows if r.id not in settled])
    for batch in batches:
        outcome = attempt_send(senders.get(batch.platform), batch)
        with transaction(sessions) as session:
            _record(session, batch, outcome, token=token, now=now, stats=stats)
    return stats


def _batches(session: Session, rows: list[Outbox]) -> list[Batch]:
    """Rows already sent once keep their batch (same content, same retry key); new rows for
    the same address are packed into as few pushes as the platform allows."""
    groups: dict[str, list[Outbox]] = {}
    fresh: dict[tuple[str, str], list[Outbox]] = {}
    for row in rows:
        if row.batch_key is not None:
            groups.setdefault(row.batch_key, []).append(row)
        else:
            fresh.setdefault((row.platform, row.address), []).append(row)
    for (platform, _address), members in fresh.items():
        for pack in _pack(platform, sorted(members, key=lambda r: (r.send_at, r.id))):
            groups[assign_batch(pack)] = pack
    out = []
    for key, members in groups.items():
        members.sort(key=lambda r: (r.send_at, r.id))
        for row in members:
            row.attempts += 1  # counted before sending: a crash mid-send is an attempt too
        first = members[0]
        out.append(
            Batch(
                key=key,
                platform=first.platform,
                address=first.address,
                attempt=max(r.attempts for r in members),
                since=min(r.send_at for r in members) - timedelta(minutes=5),
                notices=tuple(_notice(r.payload) for r in members),
                rows=len(members),
            )
        )
    session.flush()
    return out


def _pack(platform: str, rows: list[Outbox]) -> list[list[Outbox]]:
    packs: list[list[Outbox]] = []
    current: list[Outbox] = []
    for row in rows:
        candidate = [*current, row]
        if current and _cost(platform, candidate) > _capacity(platform):
            packs.append(current)
            candidate = [row]
        current = candidate
    if current:
        packs.append(current)
    return packs


def _capacity(platform: str) -> int:
    return {"line": LINE_CAPACITY, "slack": SLACK_CAPACITY}.get(platform, 10**6)


def _cost(platform: str, rows: list[Outbox]) -> int:
    replies = [reply_of(r.payload) for r in rows]
    images = [bool(r.payload.get("image")) for r in rows]
    if platform == "line":
        return line_cost(replies, images)
    if platform == "slack":
        return sum(slack_cost(reply, image) for reply, image in zip(replies, images, strict=True))
    return len(rows)


def reply_of(data: dict[str, Any]) -> Reply:
    return Reply(
        text=data.get("text", ""),
        items=tuple(data.get("items", ())),
        buttons=tuple(Button(b["label"], b["text"]) for b in data.get("buttons", ())),
        cards=tuple(
            Card(c["title"], tuple((r[0], r[1]) for r in c["rows"])) for c in data.get("cards", ())
        ),
        image_alt=data.get("image_alt", ""),
    )


def _notice(data: dict[str, Any]) -> Notice:
    return Notice(reply=reply_of(data), image_token=data.get("image"))


def _record(
    session: Session,
    batch: Batch,
    outcome: Outcome,
    *,
    token: str,
    now: datetime,
    stats: DeliveryStats,
) -> None:
    if outcome.sent:
        stats.sent += mark_sent(session, batch.key, token, now=now)
        stats.pushes += 1
        return
    where = f"{batch.platform} {batch.address} (push {batch.key}, attempt {batch.attempt})"
    stats.errors.append(f"{where}: {outcome.error}")
    if outcome.retry and batch.attempt < MAX_ATTEMPTS:
        delay = outcome.delay(batch.attempt)
        log.warning("send to %s failed, retry in %s: %s", where, delay, outcome.error)
        stats.retried += mark_retry(
            session, batch.key, token, now=now, delay=delay, error=outcome.error
        )
    else:
        log.error("send to %s failed for good: %s", where, outcome.error)
        error = (
            outcome.error
            if not outcome.retry
            else f"gave up after {batch.attempt} attempts: {outcome.error}"
        )
        stats.failed += mark_failed(session, batch.key, token, error=error)
