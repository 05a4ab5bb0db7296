"""One schedule per kind of item: who is reminded of what, and when (see reminders.planner)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders.budget import budgeted_lead, listing_digest
from reminders.business_days import OFFICE_OPENS, business_days_before, morning
from reminders.keys import ItemKey
from reminders.slots import Slot, chase_slots, end_of
from reminders.world import World
from storage.due import current_term_end, kpi_periods_due, notice_deadline
from storage.fiscal import months_after, period_end, period_label
from storage.ja_format import fmt_date, fmt_datetime, short_title
from storage.models import ActionItem, Agreement, KpiEntry, Meeting

MEETING_KINDS = {"steering": "推進会議", "working": "実務者会議", "other": "会議"}
WEEK = timedelta(weeks=1)


@dataclass(frozen=True)
class Occurrence:
    """One moment of one item's schedule, before it is expanded to each recipient."""

    item_key: str
    agreement_id: int
    tag: str
    at: datetime
    kind: str
    subject: str
    to: tuple[int, ...]  # contact ids
    channels: tuple[str, ...] = ()  # slack:C… / line:G…
    detail: tuple[str, ...] = ()
    stale_after: datetime | None = None
    # The digest day whose list may hold this lead (reminders.budget.listing_digest): left out
    # by reminders.listed when that digest really listed the item.
    listed_on: date | None = None


class KpiRow(NamedTuple):
    """What the KPI schedule needs of a KPI (plain rows: the country has tens of thousands)."""

    id: int
    agreement_id: int
    name: str
    period: str
    entry_due_days: int


def running_on(agreement: Agreement, day: date) -> bool:
    """In force on `day`: started, and not ended (an auto-renewing agreement rolls on)."""
    return agreement.starts_on <= day and (
        bool(agreement.renew_term_months) or day <= agreement.ends_on
    )


def slack_of(agreement: Agreement) -> tuple[str, ...]:
    return (f"slack:{agreement.slack_channel}",) if agreement.slack_channel else ()


def meeting_occurrences(world: World, meetings: Iterable[Meeting]) -> list[Occurrence]:
    out = []
    for m in meetings:
        out += world.isolated(ItemKey.meeting(m.id).key, partial(_meeting_occurrences, world, m))
    return out


def _meeting_occurrences(world: World, m: Meeting) -> list[Occurrence]:
    out = []
    a = world.agreements[m.agreement_id]
    rules = world.rules[a.id]
    day = m.starts_at.astimezone(world.tz).date()
    when = fmt_datetime(m.starts_at, world.tz)
    name = f"{m.title}（{when}{f'、{m.place}' if m.place else ''}）"
    moments: list[tuple[str, datetime, str]] = []
    budget = bool(rules.attention_budget)
    for d in (d for d in rules.meeting_days if d > 0):
        at = morning(day - timedelta(days=d), world.tz, leading=True)
        at = budgeted_lead(at, day, world.tz) if budget else at
        moments.append((f"d{d}", at, f"会議まであと{(day - at.date()).days}日"))
    for n in (n for n in rules.meeting_business_days if n > 0):
        at = datetime.combine(business_days_before(day, n), OFFICE_OPENS, world.tz)
        at = budgeted_lead(at, day, world.tz) if budget else at
        moments.append((f"bd{n}", at, "次の営業日は会議です" if n == 1 else f"{n}営業日後に会議"))
    seen: set[datetime] = set()
    for tag, at, lead in sorted(moments, key=lambda t: t[1], reverse=True):
        if at in seen or at >= m.starts_at:
            continue
        seen.add(at)
        listed_on = listing_digest("meeting", at, day, world.tz) if budget else None
        if not world.keeps(ItemKey.meeting(m.id).key, at):
            continue
        out.append(
            Occurrence(
                item_key=ItemKey.meeting(m.id).key,
                agreement_id=a.id,
                tag=tag,
                at=at,
                kind="meeting",
                subject=f"【{lead}】{name}",
                to=tuple(world.people(a.id)),
                detail=(f"協定：{a.title}",),
                stale_after=m.starts_at,
                listed_on=listed_on,
            )
        )
    return out


def _fill(subject: str, days: int, deadline: date, at: datetime, tz: ZoneInfo) -> str:
    """{d}: days left, {o}: days overdue (each weekly nag reads differently); {due}: the
    deadline, with its year when it lies in another fiscal year than the day the reminder is
    sent (a year-old overdue task must not read as this year's 3/10)."""
    due = fmt_date(deadline, today=at.astimezone(tz).date())
    return subject.replace("{d}", str(days)).replace("{o}", str(-days)).replace("{due}", due)


def _chase(
    world: World,
    a: Agreement,
    item_key: str,
    slots: Sequence[Slot],
    *,
    kind: str,
    subject_of: dict[str, str],
    to: tuple[int, ...],
    overdue_copy: tuple[int, ...] = (),
    escalate: tuple[int, ...] | None = None,
    last_to: tuple[int, ...],
    deadline: date,
    detail: tuple[str, ...] = (),
) -> list[Occurrence]:
    """The nag-limited schedule of a chased item: `nag_limit` reminders, then one last note.

    `escalate`: who also hears from the first overdue week on (kind escalation)."""
    limit = world.rules[a.id].nag_limit
    channels = slack_of(a)
    out = []
    budget = bool(world.rules[a.id].attention_budget)
    for i, slot in enumerate(slots):
        listed_on = (
            listing_digest(kind, slot.at, deadline, world.tz)
            if budget and slot.phase == "lead"
            else None
        )
        overdue = slot.phase == "overdue"
        # A nag the budget moved to a touch day: its escalation keeps the rule's own day.
        escalate_at = slot.held or slot.at
        escalates = overdue and escalate is not None and i < limit
        if escalates and escalate_at != slot.at and world.keeps(item_key, escalate_at):
            out += _escalation(
                world, a, item_key, slot, escalate_at, escalate, subject_of, deadline, detail
            )
        if not world.keeps(item_key, slot.at):
            if i == limit:
                break
            continue
        stale = end_of(deadline, world.tz) if slot.phase in ("lead", "due") else slot.at + WEEK
        common = {
            "item_key": item_key,
            "agreement_id": a.id,
            "at": slot.at,
            "detail": detail,
            "stale_after": stale,
        }
        if i == limit:  # the nag limit is reached: one last note, then silence
            if last_to or (escalate is not None and channels):
                out.append(
                    Occurrence(
                        tag="last",
                        kind="escalation",
                        subject="【最終のお知らせ】"
                        + _fill(subject_of["last"], 0, deadline, slot.at, world.tz),
                        to=last_to,
                        channels=channels if escalate is not None else (),
                        **common,  # type: ignore[arg-type]
                    )
                )
            break
        recipients = to + (overdue_copy if overdue else ())
        # Days counted from the moment it is sent: a holiday may have moved it earlier.
        days = (deadline - slot.at.date()).days
        phase = "lead" if slot.phase == "due" and days > 0 and "lead" in subject_of else slot.phase
        out.append(
            Occurrence(
                tag=slot.tag,
                kind=kind,
                subject=_fill(subject_of[phase], days, deadline, slot.at, world.tz),
                to=tuple(dict.fromkeys(recipients)),
                listed_on=listed_on,
                **common,  # type: ignore[arg-type]
            )
        )
        if escalates and escalate_at == slot.at:
            out += _escalation(
                world, a, item_key, slot, slot.at, escalate, subject_of, deadline, detail
            )
    return out


def _escalation(
    world: World,
    a: Agreement,
    item_key: str,
    slot: Slot,
    at: datetime,
    escalate: tuple[int, ...] | None,
    subject_of: dict[str, str],
    deadline: date,
    detail: tuple[str, ...],
) -> list[Occurrence]:
    """An overdue week's escalation to the secondaries and the Slack channel (urgent: on the
    rule's own day, also when the budget moved the owner's nag to a touch day)."""
    channels = slack_of(a)
    if escalate is None or not (escalate or channels):
        return []
    return [
        Occurrence(
            item_key=item_key,
            agreement_id=a.id,
            tag=f"{slot.tag}esc",
            at=at,
            kind="escalation",
            subject="【エスカレーション】" + _fill(subject_of["last"], 0, deadline, at, world.tz),
            to=escalate,
            channels=channels,
            detail=detail,
            stale_after=at + WEEK,
        )
    ]


def _last_note_to(world: World, agreement_id: int, owner: int) -> tuple[int, ...]:
    """The secondary on the owner's side; when the owner is that secondary, the primary."""
    side = world.side_of(owner)
    same_side = [
        r
        for r in world.roles.get(agreement_id, [])
        if r.organization_id == side and world.contacts[r.contact_id].active
    ]
    for role in ("secondary", "primary"):
        found = [r.contact_id for r in same_side if r.role == role and r.contact_id != owner]
        if found:
            return tuple(found)
    return ()


def action_item_occurrences(session: Session, world: World, lo: date, hi: date) -> list[Occurrence]:
    reach, ahead = world.behind(), world.ahead("action_item_days")
    items = session.scalars(
        select(ActionItem)
        .where(ActionItem.agreement_id.in_(world.scope), ActionItem.done_at.is_(None))
        .where(ActionItem.due_on >= lo - reach, ActionItem.due_on <= hi + ahead)
        .order_by(ActionItem.id)
    )
    out = []
    for item in items:
        out += world.isolated(
            ItemKey.action_item(item.id).key, partial(_action_item_occurrences, world, item)
        )
    return out


def _action_item_occurrences(world: World, item: ActionItem) -> list[Occurrence]:
    out = []
    a = world.agreements[item.agreement_id]
    rules = world.rules[a.id]
    owner = item.owner_id
    if owner is not None and owner in world.contacts and world.contacts[owner].active:
        to: tuple[int, ...] = (owner,)
        copy = tuple(
            p for p in world.people(a.id, "primary") if world.side_of(p) != world.side_of(owner)
        )
        last = _last_note_to(world, a.id, owner)
        who = world.contacts[owner].name
    else:  # nobody owns it: both sides' primaries are asked
        to, copy, last, who = (
            tuple(world.people(a.id, "primary")),
            (),
            tuple(world.people(a.id, "secondary")),
            "未定",
        )
    title = f"{item.title}（期限 {{due}}、担当 {who}）"  # {due}: see _chase
    slots = chase_slots(
        item.due_on,
        rules.action_item_days,
        rules.nag_limit + 1,
        world.tz,
        budget=bool(rules.attention_budget),
    )
    out += _chase(
        world,
        a,
        ItemKey.action_item(item.id).key,
        slots,
        kind="action_item",
        subject_of={
            "lead": "【タスク 期限まであと{d}日】" + title,
            "due": "【タスク 本日期限】" + title,
            "overdue": "【タスク 期限超過（{o}日）】" + title,
            "last": f"タスク未完了：{title}",
        },
        to=to,
        overdue_copy=copy,
        last_to=last,
        deadline=item.due_on,
        detail=(f"協定：{a.title}", f"完了したら「完了 {item.id}」と送ってください。"),
    )
    return out


def kpi_occurrences(
    session: Session, world: World, kpis: Iterable[KpiRow], lo: date, hi: date
) -> list[Occurrence]:
    # First the periods with a moment in the window, then which of those have a value: the
    # entries read are those few periods', not years of them.
    candidates: list[tuple[KpiRow, Agreement, date, date, Sequence[Slot], str]] = []
    in_window: dict[tuple[object, ...], tuple[Sequence[Slot], bool]] = {}

    def periods_of(kpi: KpiRow) -> list[tuple[KpiRow, Agreement, date, date, Sequence[Slot], str]]:
        found = []
        a = world.agreements[kpi.agreement_id]
        rules = world.rules[a.id]
        reach = timedelta(weeks=rules.nag_limit + 2)
        ahead = timedelta(days=max(kpi.entry_due_days, *rules.kpi_days, 0) + 17)  # + budget
        until = current_term_end(a, hi) if a.renew_term_months else a.ends_on
        for first, due_on in kpi_periods_due(kpi, a, lo - reach, hi + ahead, until=until):
            schedule = (due_on, rules.kpi_days, rules.nag_limit + 1, first, kpi.period)
            if schedule not in in_window:  # shared by every KPI due that day: checked once
                slots = chase_slots(
                    due_on,
                    rules.kpi_days,
                    rules.nag_limit + 1,
                    world.tz,
                    request=period_end(first, kpi.period) + timedelta(days=1),
                    budget=bool(rules.attention_budget),
                )
                in_window[schedule] = (slots, world.in_window(slot.at for slot in slots))
            slots, wanted = in_window[schedule]
            key = ItemKey.kpi_entry(kpi.id, first).key
            if wanted or key in world.window.whole:
                found.append((kpi, a, first, due_on, slots, key))
        return found

    for kpi in kpis:
        candidates += world.isolated(f"kpi:{kpi.id}", partial(periods_of, kpi))
    entered = _entered(session, {(c[0].id, c[2]) for c in candidates})
    out = []
    for kpi, a, first, due_on, slots, key in candidates:
        if (kpi.id, first) in entered:
            continue
        out += world.isolated(key, partial(_kpi_chase, world, kpi, a, first, due_on, slots, key))
    return out


def _kpi_chase(
    world: World,
    kpi: KpiRow,
    a: Agreement,
    first: date,
    due_on: date,
    slots: Sequence[Slot],
    key: str,
) -> list[Occurrence]:
    label = f"{kpi.name}（{period_label(first, kpi.period)}）"
    due = "{due}"  # see _chase
    return _chase(
        world,
        a,
        key,
        slots,
        kind="kpi_entry",
        subject_of={
            "request": f"【KPI入力のお願い】{label}の実績を入力してください（期限 {due}）",
            "lead": f"【KPI入力 期限まであと{{d}}日】{label}（期限 {due}）",
            "due": f"【KPI入力 本日期限】{label}",
            "overdue": f"【KPI入力 期限超過（{{o}}日）】{label}（期限 {due}）",
            "last": f"KPI未入力：{label}（期限 {due}）［{short_title(a.title)}］",
        },
        to=tuple(world.people(a.id, "primary")),
        escalate=tuple(world.people(a.id, "secondary")),
        last_to=tuple(world.people(a.id, "secondary")),
        deadline=due_on,
        detail=(f"協定：{a.title}", f"入力例：「KPI {kpi.name} 120」"),
    )


def _entered(session: Session, periods: set[tuple[int, date]]) -> set[tuple[int, date]]:
    """Which of these (KPI, period start) have a value."""
    found: set[tuple[int, date]] = set()
    pairs = sorted(periods)
    for i in range(0, len(pairs), 500):  # keep the IN lists within every driver's limit
        chunk = pairs[i : i + 500]
        found |= {
            (kpi_id, first)
            for kpi_id, first in session.execute(
                select(KpiEntry.kpi_id, KpiEntry.period_start).where(
                    KpiEntry.kpi_id.in_({k for k, _ in chunk}),
                    KpiEntry.period_start.in_({f for _, f in chunk}),
                )
            )
        }
    return found & periods


def term_ends(a: Agreement, lo: date, hi: date, reach: int) -> list[date]:
    """The ends of the terms whose reminders (up to `reach` days ahead) may fall in [lo, hi]."""
    if not a.renew_term_months:
        return [a.ends_on]
    out = []
    end = current_term_end(a, lo - timedelta(days=1))
    while end - timedelta(days=reach + (a.notice_days or 0)) <= hi:
        out.append(end)
        end = months_after(end, a.renew_term_months)
    return out


def renewal_occurrences(world: World, lo: date, hi: date) -> list[Occurrence]:
    out = []
    for a in world.agreements.values():
        out += world.isolated(f"renewal:{a.id}", partial(_renewal_occurrences, world, a, lo, hi))

    return out


def _renewal_occurrences(world: World, a: Agreement, lo: date, hi: date) -> list[Occurrence]:
    out = []
    rules = world.rules[a.id]
    reach = max([*rules.renewal_days, rules.review_days]) + 17  # holidays and the budget
    for end in term_ends(a, lo, hi, reach):
        deadline = notice_deadline(a, end)
        first = min(deadline or end, end) - timedelta(days=reach)
        if not world.may_keep(ItemKey.renewal(a.id, end).key, first, end) and not (
            world.window.whole and ItemKey.review(a.id, end).key in world.window.whole
        ):
            continue
        everyone = tuple(world.people(a.id))
        item_key = ItemKey.renewal(a.id, end).key
        for tag in sorted(set(rules.renewal_days), reverse=True):
            at = morning((deadline or end) - timedelta(days=tag), world.tz, leading=True)
            if rules.attention_budget:
                at = budgeted_lead(at, deadline or end, world.tz)
            if not world.keeps(item_key, at):
                continue
            d = ((deadline or end) - at.date()).days  # a holiday may have moved it earlier
            if deadline is not None:
                head = "【更新 申し出期限 本日】" if d == 0 else f"【更新 申し出期限まであと{d}日】"
                text = f"{short_title(a.title)}：自動更新をしない場合の申し出期限は{fmt_date(deadline, year=True)}です（期間満了 {fmt_date(end, year=True)}）"
            else:
                head = "【本日 期間満了】" if d == 0 else f"【期間満了まであと{d}日】"
                text = f"{short_title(a.title)}：協定の有効期間は{fmt_date(end, year=True)}までです。更新するか、終了の準備を"
            out.append(
                Occurrence(
                    item_key=item_key,
                    agreement_id=a.id,
                    tag=f"d{tag}",
                    at=at,
                    kind="renewal",
                    subject=head + text,
                    to=everyone,
                    detail=(f"協定：{a.title}",),
                    stale_after=end_of(deadline or end, world.tz),
                )
            )
        review_key = ItemKey.review(a.id, end).key
        review_at = morning(end - timedelta(days=rules.review_days), world.tz, leading=True)
        if rules.attention_budget:
            review_at = budgeted_lead(review_at, end, world.tz)
        if not world.keeps(review_key, review_at):
            continue
        out.append(
            Occurrence(
                item_key=review_key,
                agreement_id=a.id,
                tag=f"d{rules.review_days}",
                at=review_at,
                kind="review",
                subject=f"【総合評価】{short_title(a.title)}：期間満了（{fmt_date(end, year=True)}）まで{rules.review_days}日です。KPIの達成状況と活動実績をもとに総合評価の準備をお願いします",
                to=everyone,
                detail=(f"協定：{a.title}",),
                stale_after=end_of(deadline or end, world.tz),
            )
        )
    return out


def cadence_occurrences(world: World, latest: dict[tuple[int, str], datetime]) -> list[Occurrence]:
    """A meeting kind is due `cadence` months after the latest one (held or scheduled)."""
    out = []
    for a in world.agreements.values():
        out += world.isolated(f"cadence:{a.id}", partial(_cadence_occurrences, world, a, latest))

    return out


def _cadence_occurrences(
    world: World, a: Agreement, latest: dict[tuple[int, str], datetime]
) -> list[Occurrence]:
    out = []
    rules = world.rules[a.id]
    for kind, months in (
        ("steering", a.steering_cadence_months),
        ("working", a.working_cadence_months),
    ):
        if not months:
            continue
        base = latest.get((a.id, kind))
        since = base.astimezone(world.tz).date() if base else a.starts_on
        due_on = months_after(since, months)
        key = ItemKey.cadence(a.id, kind, due_on).key
        last = due_on + timedelta(weeks=rules.nag_limit + 1)
        if not world.may_keep(key, due_on - timedelta(days=rules.cadence_days), last):
            continue
        name = MEETING_KINDS[kind]
        previous = f"前回 {fmt_date(since, year=True)}" if base else "まだ開催記録なし"
        text = f"{short_title(a.title)}：次の{name}が未定です（{months}か月ごと、{previous}、{fmt_date(due_on, year=True)}ごろが目安）"
        slots = chase_slots(
            due_on,
            (rules.cadence_days,),
            rules.nag_limit + 1,
            world.tz,
            due_leads=False,
            budget=bool(rules.attention_budget),
        )
        occurrences = _chase(
            world,
            a,
            key,
            slots,
            kind="cadence",
            subject_of={
                "lead": "【会議の開催時期】" + text,
                "due": "【会議の開催時期】" + text,
                "overdue": "【会議の開催時期を過ぎています（{o}日）】" + text,
                "last": text,
            },
            to=tuple(world.people(a.id, "primary")),
            last_to=tuple(world.people(a.id, "secondary")),
            deadline=due_on,
            detail=(
                f"協定：{a.title}",
                "日程が決まったら「会議 12/10 14:00 実務者会議 市役所3F」のように登録してください。",
            ),
        )
        out += [o for o in occurrences if running_on(a, o.at.date())]
    return out


def dormancy_occurrences(world: World, a: Agreement, since: date) -> list[Occurrence]:
    """No sign of life (activity, meeting, KPI value) for `dormancy_days`: nudge weekly."""
    rules = world.rules[a.id]
    first = since + timedelta(days=rules.dormancy_days)
    key = ItemKey.dormancy(a.id, since).key
    if not world.may_keep(key, first, first + timedelta(weeks=rules.nag_limit + 1)):
        return []
    slots = chase_slots(first, (), rules.nag_limit + 1, world.tz, due_leads=False)
    text = f"{short_title(a.title)}：最後の記録（{fmt_date(since, year=True)}）から{{n}}日、活動の記録がありません"
    occurrences = _chase(
        world,
        a,
        key,
        slots,
        kind="dormancy",
        subject_of={
            "due": "【活動の記録がありません】" + text,
            "overdue": "【活動の記録がありません】" + text,
            "last": text,
        },
        to=tuple(world.people(a.id, "primary")),
        last_to=tuple(world.people(a.id, "secondary")),
        deadline=first,
        detail=(
            f"協定：{a.title}",
            "活動を記録するには「活動 11/20 防災訓練 参加者45名」のように送ってください。",
        ),
    )
    fixed = []
    for o in occurrences:
        days = (o.at.date() - since).days
        fixed.append(
            Occurrence(
                **{**o.__dict__, "subject": o.subject.replace("{n}", str(days))},
            )
        )
    return [o for o in fixed if running_on(a, o.at.date())]
