"""Every notification the rules would send in a time window: the planner's and the preview's one
source. Pure computation over the database state: nothing is written.

Rules (defaults in reminders.rules, overridable per agreement):
- meeting: 7 days and 1 business day before, to both sides' primary and secondary contacts;
- kpi_entry: a request when the period ends, 3 days before it is due, on the day, weekly while
  missing; from the first overdue week an escalation to the secondaries and the Slack channel;
- action_item: 3 days before, on the day, weekly while open, to the owner (and the other
  sides' primaries once overdue);
- renewal: 90/60/30/14/7/0 days before the notice deadline (or the end without auto-renewal);
  review (総合評価): 180 days before the end of the term;
- cadence: a meeting kind is due by the cadence and none is scheduled; dormancy: no sign of
  life (activity, meeting, KPI value) for 60 days;
- chased items (kpi_entry, action_item, cadence, dormancy) stop after the nag limit (4) with one
  last note to the secondary; meetings and renewals have a fixed, finite schedule;
- digest: every week's first business day (Mon–Fri) at 09:00, per agreement to its Slack channel
  and LINE group, and per person across their agreements.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, load_only

from reminders.budget import digest_day
from reminders.business_days import OFFICE_OPENS
from reminders.items import (
    KpiRow,
    Occurrence,
    action_item_occurrences,
    cadence_occurrences,
    dormancy_occurrences,
    kpi_occurrences,
    meeting_occurrences,
    renewal_occurrences,
    running_on,
)
from reminders.keys import ItemKey, digest_key
from reminders.listed import drop_listed
from reminders.rules import ReminderRules, rules_from
from reminders.world import Person, Role, Window, World
from storage.ja_format import fmt_date, short_title
from storage.models import (
    ActionItem,
    Activity,
    Agreement,
    AgreementContact,
    ChangeLog,
    ChatIdentity,
    Contact,
    Kpi,
    KpiEntry,
    Meeting,
    ReminderSettings,
    ReminderState,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

KINDS = (
    "meeting",
    "kpi_entry",
    "action_item",
    "renewal",
    "review",
    "cadence",
    "dormancy",
    "digest",
    "escalation",
)
# How far around the window items are loaded: the longest schedule reaches this far.
REACH = timedelta(days=400)
PLANNED_COLUMNS = (
    Agreement.key,
    Agreement.title,
    Agreement.starts_on,
    Agreement.ends_on,
    Agreement.renew_term_months,
    Agreement.notice_days,
    Agreement.steering_cadence_months,
    Agreement.working_cadence_months,
    Agreement.slack_channel,
    Agreement.line_group,
)
# The furthest a reminder's business morning moves from its day: the year-end closure
# (12/29–1/3) with the weekends around it.
MARGIN = timedelta(days=10)


def _rules_version() -> str:
    """What the index's next moments were worked out with (storage.plan_index): the code of
    the schedules and the holiday calendar's version. A deploy that changes either makes the
    next tick work every agreement out again."""
    digest = hashlib.sha256(importlib.metadata.version("jpholiday").encode())
    root = Path(__file__).resolve().parent
    for path in sorted([*root.glob("*.py"), root.parent / "storage" / "due.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


RULES_VERSION = _rules_version()


@dataclass(frozen=True)
class Planned:
    send_at: datetime  # timezone-aware, in the configured zone
    recipient: str  # contact key, or slack:CHANNEL / line:GROUP
    platform: str  # line | slack | local
    kind: str  # one of KINDS
    agreement_key: str | None  # None for a person's digest across agreements
    subject: str
    dedupe_key: str  # what, which occurrence, which lead time, which recipient
    item_key: str = ""  # the thing reminded of, e.g. action_item:3; buttons refer to it
    address: str = ""  # the platform's id: LINE user/group, Slack user/channel, contact key
    detail: tuple[str, ...] = ()
    stale_after: datetime | None = None  # not worth sending after this (e.g. the meeting began)

    def as_json(self) -> dict[str, Any]:
        """The preview's contract: exactly these keys."""
        return {
            "send_at": self.send_at.isoformat(),
            "recipient": self.recipient,
            "platform": self.platform,
            "kind": self.kind,
            "agreement": self.agreement_key,
            "subject": self.subject,
        }


def plan_notifications(
    session: Session,
    *,
    now: datetime,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    recent: datetime | None = None,
    failures: list[str] | None = None,
    budget: bool = True,
    due: ColumnElement[bool] | None = None,
    horizon: datetime | None = None,
    next_at: dict[int, datetime] | None = None,
) -> list[Planned]:
    """Every notification whose send moment is in [start, end), given the state at `now`.

    `failures`: receives the keys of the items or agreements that could not be planned.

    `recent`: the planner's mark, where the previous tick's window ended. Before it, only the
    moments of meetings and action items written since then, and of snoozed items, are
    worked out (see `World.keeps`).

    `budget=False`: as if every agreement turned the attention budget off (the preview's
    before/after).

    The index (storage.plan_index): `due` limits the agreements worked out to those it holds
    for (and those with a snoozed item; all of them when a digest is due); `next_at` receives,
    for each agreement worked out, the earliest moment in [end, horizon) of its schedules
    before acknowledgements and snoozes (`horizon` when none)."""
    lo, hi = start.astimezone(tz).date(), end.astimezone(tz).date()
    whole = _snoozed_items(session, start)
    reach = max(end, horizon or end)
    window = Window(
        start=start,
        end=reach,
        recent=recent,
        whole=whole,
        fresh=_written_since(session, recent) if recent is not None else frozenset(),
    )
    if due is not None and (recent is None or _digest_in(window, tz, lo, hi, end)):
        due = None  # the digests read every agreement; a full look-back works out all
    if due is not None and whole:
        due = due | Agreement.id.in_(_agreements_of(session, whole))
    world = load_world(
        session,
        tz=tz,
        lo=lo,
        hi=reach.astimezone(tz).date(),
        window=window,
        failures=failures,
        budget=budget,
        due=due,
    )
    occurrences = _all_occurrences(session, world, lo, reach.astimezone(tz).date())
    if next_at is not None and horizon is not None:
        next_at.update(_next_moments(world, occurrences, end, horizon))
    # Moments after `end` were worked out only for the index (snoozed items: all of theirs).
    occurrences = [o for o in occurrences if o.at < end or o.item_key in whole]
    occurrences = _apply_states(occurrences, _states_of(session, occurrences), tz)
    # The attention budget: leads the person's weekly digest already listed are not pushed.
    occurrences = drop_listed(session, world, occurrences, start=start, end=end)
    # Only now narrow to the window (snoozes need an item's whole schedule), and before the
    # expansion to recipients, which multiplies the rows: a tick's cost follows what is due.
    planned = [
        p
        for o in occurrences
        if start <= o.at < end
        for p in world.isolated(o.item_key, lambda o=o: list(_expand(o, world)))
    ]
    planned += world.isolated("digests", lambda: _digests(world, lo, hi))
    planned = [p for p in planned if start <= p.send_at < end]
    return sorted(planned, key=lambda p: (p.send_at, p.recipient, p.kind, p.dedupe_key))


def _digest_in(window: Window, tz: ZoneInfo, lo: date, hi: date, end: datetime) -> bool:
    """Whether a week's digest moment is planned in this window (they read every agreement)."""
    monday = lo - timedelta(days=lo.weekday())
    while monday <= hi:
        day = digest_day(monday)
        if day is not None and lo <= day <= hi:
            at = datetime.combine(day, OFFICE_OPENS, tz)
            span = window.span(digest_key(monday))
            if span is None or span[0] <= at < end:
                return True
        monday += timedelta(weeks=1)
    return False


def _next_moments(
    world: World, occurrences: list[Occurrence], end: datetime, horizon: datetime
) -> dict[int, datetime]:
    """Each agreement's earliest moment in [end, horizon); `horizon` when it has none. Left out:
    an agreement something failed for this run (the next tick works it out again)."""
    out = dict.fromkeys(world.agreements, horizon)
    for o in occurrences:
        if end <= o.at < out.get(o.agreement_id, o.at):
            out[o.agreement_id] = o.at
    for failed in _failed_agreements(world):
        out.pop(failed, None)
    return out


def _failed_agreements(world: World) -> set[int]:
    """The agreements of this run's failures, by their keys (see World.isolated); every one
    when a key names no agreement (the index is then not written this run)."""
    found: set[int] = set()
    for what in world.failures:
        kind, _, rest = what.partition(":")
        number = rest.split(".", 1)[0]
        if kind in ("renewal", "review", "cadence", "dormancy", "settings") and number.isdigit():
            found.add(int(number))
        elif kind != "digests":
            return set(world.agreements)
    return found


def _agreements_of(session: Session, item_keys: Iterable[str]) -> set[int]:
    """The agreements of these items (snoozed ones: a few rows)."""
    ids: dict[str, set[int]] = {}
    for key in item_keys:
        ref = ItemKey.parse(key)
        if ref is not None:
            ids.setdefault(ref.kind, set()).add(ref.id)
    found: set[int] = set()
    for kind, model in (("meeting", Meeting), ("action_item", ActionItem), ("kpi_entry", Kpi)):
        wanted = sorted(ids.pop(kind, set()))
        for i in range(0, len(wanted), 500):
            found |= set(
                session.scalars(select(model.agreement_id).where(model.id.in_(wanted[i : i + 500])))
            )
    for agreement_ids in ids.values():  # renewal, review, cadence, dormancy: the agreement's
        found |= agreement_ids
    return found


def _written_since(session: Session, since: datetime) -> frozenset[str]:
    """Meetings and action items added, changed or restored by 取消 since `since` (every chat
    write goes through the change log; an imported file forgets the planner's mark)."""
    return frozenset(
        ItemKey(table, row_id).key
        for table, row_id, created, undone in session.execute(
            select(ChangeLog.table, ChangeLog.row_id, ChangeLog.created_at, ChangeLog.undone_at)
            .where(ChangeLog.table.in_(("meeting", "action_item")))
            .where(ChangeLog.created_at >= since - ChangeLog.undo_window)
        )
        if created >= since or (undone is not None and undone >= since)
    )


def _snoozed_items(session: Session, start: datetime) -> frozenset[str]:
    """Items whose snooze may still move a moment of the window (a few rows: presses)."""
    return frozenset(
        session.scalars(
            select(ReminderState.item_key).where(
                ReminderState.acknowledged_at.is_(None),
                ReminderState.snoozed_until >= start - timedelta(days=7),
            )
        )
    )


def load_world(
    session: Session,
    *,
    tz: ZoneInfo,
    lo: date,
    hi: date,
    window: Window | None = None,
    failures: list[str] | None = None,
    budget: bool = True,
    due: ColumnElement[bool] | None = None,
) -> World:
    """What the rules need, loaded with a fixed number of queries. `failures` receives the keys
    of what could not be planned (the caller's list, so it sees them); `due`: only the
    agreements it holds for (the index's)."""
    in_reach: tuple[ColumnElement[bool], ...] = (
        Agreement.starts_on <= hi + REACH,
        or_(Agreement.renew_term_months > 0, Agreement.ends_on >= lo - REACH),
    )
    if due is not None:
        in_reach += (due,)
    agreements = {
        a.id: a
        for a in session.scalars(
            select(Agreement)
            .options(load_only(*PLANNED_COLUMNS))  # not the JSON of fields and notes
            .where(*in_reach)
            .order_by(Agreement.id)
        )
    }
    # A subquery, not ten thousand bound ids, in every query of the run.
    ids = select(Agreement.id).where(*in_reach).scalar_subquery()
    settings = {
        s.agreement_id: s.settings
        for s in session.scalars(
            select(ReminderSettings).where(ReminderSettings.agreement_id.in_(ids))
        )
    }
    roles: dict[int, list[Role]] = {}
    for agreement_id, *role in session.execute(
        select(
            AgreementContact.agreement_id,
            AgreementContact.contact_id,
            AgreementContact.organization_id,
            AgreementContact.role,
        )
        .where(AgreementContact.agreement_id.in_(ids))
        .order_by(AgreementContact.agreement_id, AgreementContact.role, AgreementContact.id)
    ):
        roles.setdefault(agreement_id, []).append(Role(*role))
    contact_ids = select(AgreementContact.contact_id).where(AgreementContact.agreement_id.in_(ids))
    contacts = {
        contact_id: Person(*person)
        for contact_id, *person in session.execute(
            select(
                Contact.id, Contact.key, Contact.name, Contact.organization_id, Contact.active
            ).where(Contact.id.in_(contact_ids))
        )
    }
    identities: dict[int, tuple[str, str]] = {}
    # The most recently linked account wins (one not blocked): the app the person uses now.
    for contact_id, platform, external_id in session.execute(
        select(ChatIdentity.contact_id, ChatIdentity.platform, ChatIdentity.external_id)
        .where(ChatIdentity.contact_id.in_(contact_ids), ChatIdentity.blocked_at.is_(None))
        .order_by(ChatIdentity.linked_at, ChatIdentity.id)
    ):
        identities[contact_id] = (platform, external_id)
    failures = [] if failures is None else failures
    return World(
        tz=tz,
        scope=ids,
        agreements=agreements,
        rules={i: _checked_rules(i, settings.get(i), failures, budget=budget) for i in agreements},
        roles=roles,
        contacts=contacts,
        identities=identities,
        window=window or Window(),
        failures=failures,
    )


def _checked_rules(
    agreement_id: int, settings: dict[str, Any] | None, failures: list[str], *, budget: bool
) -> ReminderRules:
    """The agreement's rules; the defaults (logged, counted) when its stored settings are not
    whole days within ten years, so one broken row cannot stop every agreement's planning."""
    try:
        rules = rules_from(settings)
        for value in vars(rules).values():
            for days in value if isinstance(value, tuple) else (value,):
                if type(days) is not int or not 0 <= days <= 3650:
                    raise ValueError(f"not a number of days: {days!r}")
        return rules if budget else replace(rules, attention_budget=0)
    except Exception:
        log.exception(
            "planner: reminder settings of agreement %s unusable; defaults used", agreement_id
        )
        failures.append(f"settings:{agreement_id}")
        return rules_from(None) if budget else replace(rules_from(None), attention_budget=0)


def _all_occurrences(session: Session, world: World, lo: date, hi: date) -> list[Occurrence]:
    if not world.agreements:
        return []
    ids = world.scope
    tz = world.tz
    around = max(world.ahead("meeting_days"), 3 * world.ahead("meeting_business_days"))
    meetings = list(
        session.scalars(
            select(Meeting).where(
                Meeting.agreement_id.in_(ids),
                Meeting.cancelled.is_(False),
                Meeting.starts_at >= datetime.combine(lo - timedelta(days=1), OFFICE_OPENS, tz),
                Meeting.starts_at < datetime.combine(hi + around, OFFICE_OPENS, tz),
            )
        )
    )
    # Signs of life (for cadence and dormancy) older than these cut-offs only schedule
    # reminders before the window: the indexed ranges keep the cost off the history's size.
    since = lo - world.ahead("dormancy_days") - world.behind()
    months = max(
        [a.steering_cadence_months or 0 for a in world.agreements.values()]
        + [a.working_cadence_months or 0 for a in world.agreements.values()]
    )
    meetings_since = min(since, lo - relativedelta(months=months) - world.behind())
    latest_meeting = {
        (agreement_id, kind): at
        for agreement_id, kind, at in session.execute(
            select(Meeting.agreement_id, Meeting.kind, func.max(Meeting.starts_at))
            .where(Meeting.agreement_id.in_(ids), Meeting.cancelled.is_(False))
            .where(Meeting.starts_at >= datetime.combine(meetings_since, OFFICE_OPENS, tz))
            .group_by(Meeting.agreement_id, Meeting.kind)
        )
    }
    # The agreement-wide schedules start where the previous tick's window ended.
    recent = (
        lo if world.window.recent is None else max(lo, world.window.recent.astimezone(tz).date())
    )
    kpis: list[KpiRow] = session.execute(  # type: ignore[assignment] # rows, by attribute
        select(Kpi.id, Kpi.agreement_id, Kpi.name, Kpi.period, Kpi.entry_due_days)
        .where(Kpi.agreement_id.in_(ids))
        .order_by(Kpi.id)
    ).all()
    last_entry: dict[int, datetime] = dict(
        session.execute(
            select(Kpi.agreement_id, func.max(KpiEntry.entered_at))
            .join(KpiEntry, KpiEntry.kpi_id == Kpi.id)
            .where(Kpi.agreement_id.in_(ids), KpiEntry.period_start >= since - REACH)
            .group_by(Kpi.agreement_id)
        ).all()
    )
    last_activity: dict[int, date] = dict(
        session.execute(
            select(Activity.agreement_id, func.max(Activity.occurred_on))
            .where(Activity.agreement_id.in_(ids), Activity.occurred_on >= since)
            .group_by(Activity.agreement_id)
        ).all()
    )
    out: list[Occurrence] = []
    out += meeting_occurrences(world, meetings)
    out += action_item_occurrences(session, world, lo, hi)
    out += kpi_occurrences(session, world, kpis, recent, hi)
    out += renewal_occurrences(world, recent, hi)
    out += cadence_occurrences(world, latest_meeting)
    meetings_by_agreement: dict[int, list[datetime]] = {}  # grouped once: no agreements² scan
    for (a, _kind), at in latest_meeting.items():
        meetings_by_agreement.setdefault(a, []).append(at)
    for agreement_id, agreement in world.agreements.items():

        def dormancy(
            agreement_id: int = agreement_id, agreement: Agreement = agreement
        ) -> list[Occurrence]:
            signs = [agreement.starts_on, last_activity.get(agreement_id)]
            signs += [
                at.astimezone(tz).date() for at in meetings_by_agreement.get(agreement_id, ())
            ]
            if agreement_id in last_entry:
                signs.append(last_entry[agreement_id].astimezone(tz).date())
            return dormancy_occurrences(world, agreement, max(d for d in signs if d is not None))

        out += world.isolated(f"dormancy:{agreement_id}", dormancy)
    return out


def _states_of(session: Session, occurrences: list[Occurrence]) -> dict[str, ReminderState]:
    """The 対応済み / スヌーズ state of the items reminded of."""
    return {
        s.item_key: s
        for s in session.scalars(
            select(ReminderState).where(
                ReminderState.item_key.in_({o.item_key for o in occurrences})
            )
        )
    }


def _apply_states(
    occurrences: list[Occurrence], states: dict[str, ReminderState], tz: ZoneInfo
) -> list[Occurrence]:
    """対応済み stops an item's reminders; スヌーズ moves those in the snooze to its end."""
    by_item: dict[str, list[Occurrence]] = {}
    for o in occurrences:
        by_item.setdefault(o.item_key, []).append(o)
    out: list[Occurrence] = []
    for key, items in by_item.items():
        state = states.get(key)
        if state is None:
            out += items
        elif state.acknowledged_at is not None:
            continue
        elif state.snoozed_at is not None and state.snoozed_until is not None:
            out += _snoozed(items, state.snoozed_at, state.snoozed_until, tz)
        else:
            out += items
    return out


def _snoozed(
    items: list[Occurrence], since: datetime, until: datetime, tz: ZoneInfo
) -> list[Occurrence]:
    kept = [o for o in items if not since <= o.at < until]
    items = sorted(items, key=lambda o: o.at)
    before = [o for o in items if o.at <= since]
    anchor = before[-1].at if before else (items[0].at if items else None)
    again = [
        Occurrence(
            item_key=o.item_key,
            agreement_id=o.agreement_id,
            tag=f"snooze{until.astimezone(tz):%Y%m%d%H%M}",
            at=until.astimezone(tz),
            kind=o.kind,
            subject="【再通知】" + o.subject,
            to=o.to,
            channels=o.channels,
            detail=o.detail,
            stale_after=until + timedelta(days=7),
        )
        for o in items
        if o.at == anchor
    ]
    return kept + again


def _expand(o: Occurrence, world: World) -> Iterable[Planned]:
    agreement = world.agreements[o.agreement_id]
    seen: set[str] = set()
    targets: list[tuple[str, str, str]] = []
    for contact_id in o.to:
        platform, address = world.address_of(contact_id)
        targets.append((world.contacts[contact_id].key, platform, address))
    for channel in o.channels:
        platform, address = channel.split(":", 1)
        targets.append((channel, platform, address))
    for recipient, platform, address in targets:
        if recipient in seen:
            continue
        seen.add(recipient)
        yield Planned(
            send_at=o.at,
            recipient=recipient,
            platform=platform,
            kind=o.kind,
            agreement_key=agreement.key,
            subject=o.subject,
            dedupe_key=f"{o.item_key}|{o.tag}|{recipient}",
            item_key=o.item_key,
            address=address,
            detail=o.detail,
            stale_after=o.stale_after,
        )


def group_digest_reaches(world: World, agreement: Agreement, contact_id: int) -> bool:
    """Whether the agreement's own digest reaches the person on the platform they use: its
    LINE group for a LINE user, its Slack channel for a Slack user (budget: not twice)."""
    if not world.rules[agreement.id].attention_budget:
        return False
    platform, _ = world.address_of(contact_id)
    return bool(
        (platform == "line" and agreement.line_group)
        or (platform == "slack" and agreement.slack_channel)
    )


def _digests(world: World, lo: date, hi: date) -> list[Planned]:
    tz = world.tz
    out: list[Planned] = []
    monday = lo - timedelta(days=lo.weekday())
    while monday <= hi:
        day = digest_day(monday)
        if day is not None and lo <= day <= hi:
            at = datetime.combine(day, OFFICE_OPENS, tz)
            if world.keeps(digest_key(monday), at):
                out += _digests_on(world, monday, at)
        monday += timedelta(weeks=1)
    return out


def _digests_on(world: World, monday: date, at: datetime) -> list[Planned]:
    item_key = digest_key(monday)
    stale = at + timedelta(days=4)
    week = f"{fmt_date(monday)}の週"
    out: list[Planned] = []
    running = [a for a in world.agreements.values() if running_on(a, at.date())]
    for a in running:
        for platform, target in (("slack", a.slack_channel), ("line", a.line_group)):
            if target:
                recipient = f"{platform}:{target}"
                out.append(
                    Planned(
                        send_at=at,
                        recipient=recipient,
                        platform=platform,
                        kind="digest",
                        agreement_key=a.key,
                        subject=f"【週次ダイジェスト】{short_title(a.title)} {week}",
                        dedupe_key=f"{item_key}|{a.key}|{recipient}",
                        item_key=item_key,
                        address=target,
                        stale_after=stale,
                    )
                )
    people: dict[int, list[str]] = {}
    for a in running:
        for contact_id in world.people(a.id):
            if not group_digest_reaches(world, a, contact_id):
                people.setdefault(contact_id, []).append(a.key)
    # No personal digest when every agreement of the person is covered by its group/channel;
    # `detail` names the agreements it covers (the composer shows only those).
    for contact_id, keys in sorted(people.items(), key=lambda p: world.contacts[p[0]].key):
        count = len(keys)
        key = world.contacts[contact_id].key
        platform, address = world.address_of(contact_id)
        out.append(
            Planned(
                send_at=at,
                recipient=key,
                platform=platform,
                kind="digest",
                agreement_key=None,
                subject=f"【週次ダイジェスト】{week}（担当協定{count}件）",
                dedupe_key=f"{item_key}|person|{key}",
                item_key=item_key,
                address=address,
                detail=tuple(keys),
                stale_after=stale,
            )
        )
    return out
