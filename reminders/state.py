"""The 対応済み / スヌーズ that stop or postpone a reminder (its item: `reminders.keys`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from reminders.business_days import morning
from reminders.keys import ItemKey
from storage.fiscal import period_label
from storage.models import ActionItem, Agreement, Kpi, KpiEntry, Meeting, Outbox, ReminderState

SNOOZE_DAYS = 3
MAX_SNOOZE_DAYS = 30


def item_agreement(session: Session, ref: ItemKey) -> Agreement | None:
    """The agreement the item belongs to (authorization is checked against it)."""
    owner = {"meeting": Meeting, "action_item": ActionItem, "kpi_entry": Kpi}.get(ref.kind)
    if owner is None:
        return session.get(Agreement, ref.id)
    row = session.get(owner, ref.id)
    return None if row is None else session.get(Agreement, row.agreement_id)


def item_title(session: Session, ref: ItemKey) -> str:
    """A short Japanese name of the item, for replies."""
    if ref.kind == "meeting":
        m = session.get(Meeting, ref.id)
        return f"会議「{m.title}」" if m else "会議"
    if ref.kind == "action_item":
        t = session.get(ActionItem, ref.id)
        return f"タスク「{t.title}」" if t else "タスク"
    if ref.kind == "kpi_entry":
        k, day = session.get(Kpi, ref.id), ref.day
        period = f"（{period_label(day, k.period)}）" if k and day else ""
        return f"KPI「{k.name}」{period}の入力" if k else "KPIの入力"
    names = {
        "renewal": "協定の更新",
        "review": "総合評価",
        "cadence": "会議の開催",
        "dormancy": "活動の記録",
    }
    return names[ref.kind]


def snooze_until(now: datetime, tz: ZoneInfo, days: int = SNOOZE_DAYS) -> datetime:
    """The morning `days` later (the next business morning from there), when the regular
    reminders of that day go out too, so it arrives in the same push as them."""
    return morning(now.astimezone(tz).date() + timedelta(days=days), tz, leading=False)


def _state(session: Session, ref: ItemKey) -> ReminderState:
    state = session.scalar(
        select(ReminderState).where(ReminderState.item_key == ref.key).with_for_update()
    )
    if state is None:
        state = ReminderState(item_key=ref.key)
        session.add(state)
    return state


def snooze_item(
    session: Session, ref: ItemKey, *, contact_id: int, now: datetime, until: datetime
) -> None:
    """Postpone every reminder of the item due before `until` to `until` (one notice then)."""
    state = _state(session, ref)
    state.snoozed_at, state.snoozed_until, state.snoozed_by_id = now, until, contact_id
    session.execute(
        update(Outbox)
        .where(Outbox.item_key == ref.key, Outbox.status == "pending", Outbox.batch_key.is_(None))
        .where(Outbox.send_at < until)
        .values(status="cancelled", error=f"snoozed until {until.isoformat()}")
    )
    session.flush()


def acknowledge_item(session: Session, ref: ItemKey, *, contact_id: int, now: datetime) -> bool:
    """Stop the item's reminders for everyone; False when it was already acknowledged."""
    state = _state(session, ref)
    if state.acknowledged_at is not None:
        return False
    state.acknowledged_at, state.acknowledged_by_id = now, contact_id
    session.execute(
        update(Outbox)
        .where(Outbox.item_key == ref.key, Outbox.status == "pending", Outbox.batch_key.is_(None))
        .values(status="cancelled", error="acknowledged")
    )
    session.flush()
    return True


def unwanted(session: Session, rows: Sequence[Outbox]) -> set[int]:
    """Ids of rows whose item was settled since they were planned: done, entered, cancelled,
    acknowledged, or snoozed past the row's moment. A few queries for any number of rows."""
    refs = {r.id: ItemKey.parse(r.item_key) for r in rows if r.kind != "digest"}
    by_kind: dict[str, set[int]] = {}
    for ref in refs.values():
        if ref is not None:
            by_kind.setdefault(ref.kind, set()).add(ref.id)
    open_items = set(
        session.scalars(
            select(ActionItem.id).where(
                ActionItem.id.in_(by_kind.get("action_item", set())), ActionItem.done_at.is_(None)
            )
        )
    )
    live_meetings = set(
        session.scalars(
            select(Meeting.id).where(
                Meeting.id.in_(by_kind.get("meeting", set())), Meeting.cancelled.is_(False)
            )
        )
    )
    entered = {
        (kpi_id, first)
        for kpi_id, first in session.execute(
            select(KpiEntry.kpi_id, KpiEntry.period_start).where(
                KpiEntry.kpi_id.in_(by_kind.get("kpi_entry", set()))
            )
        )
    }
    states = {
        s.item_key: s
        for s in session.scalars(
            select(ReminderState).where(ReminderState.item_key.in_({r.item_key for r in rows}))
        )
    }
    out = set()
    for row in rows:
        ref = refs.get(row.id)
        if ref is None:
            continue
        state = states.get(row.item_key)
        settled = (
            (ref.kind == "action_item" and ref.id not in open_items)
            or (ref.kind == "meeting" and ref.id not in live_meetings)
            or (ref.kind == "kpi_entry" and (ref.id, ref.day) in entered)
        )
        if settled or (state is not None and _stopped(state, row)):
            out.add(row.id)
    return out


def _stopped(state: ReminderState, row: Outbox) -> bool:
    if state.acknowledged_at is not None:
        return True
    if state.snoozed_at is None or state.snoozed_until is None or "|snooze" in row.dedupe_key:
        return False
    return state.snoozed_at <= row.send_at < state.snoozed_until
