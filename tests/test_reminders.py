"""The reminder rules and the calendar they keep, computed by `plan_notifications` (the one
source of the planner and of `renkei reminders preview`)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from reminders.business_days import business_days_before, decent_moment, is_business_day
from reminders.planner import Planned, plan_notifications
from reminders.slots import chase_slots
from storage.agreement_file import AgreementFileError, parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements
from storage.models import (
    ActionItem,
    Activity,
    Agreement,
    ChatIdentity,
    Contact,
    Kpi,
    KpiEntry,
    Meeting,
    Outbox,
)
from tests.conftest import NOW, TOKYO

FY_START = datetime(2026, 4, 1, tzinfo=TOKYO)
FY_END = datetime(2027, 4, 1, tzinfo=TOKYO)


def plan(app: Flask, start: datetime = FY_START, end: datetime = FY_END) -> list[Planned]:
    with app.extensions["renkei"].sessions() as session:
        return plan_notifications(session, now=NOW, tz=TOKYO, start=start, end=end)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2027 if month < 4 else 2026, month, day, hour, tzinfo=TOKYO)


# --- the calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2026, 11, 24), True),  # Tuesday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 23), False),  # 勤労感謝の日
        (date(2026, 5, 6), False),  # 振替休日 (憲法記念日 on a Sunday)
        (date(2026, 9, 22), False),  # 国民の休日 between 敬老の日 and 秋分の日
        (date(2026, 12, 28), True),  # the last day before the closure
        (date(2026, 12, 29), False),  # 年末年始 12/29–1/3
        (date(2027, 1, 3), False),
        (date(2027, 1, 4), True),
    ],
)
def test_business_days(day: date, open_: bool) -> None:
    assert is_business_day(day) is open_


@pytest.mark.parametrize(
    ("moment", "leading", "expected"),
    [
        (datetime(2026, 11, 25, 10, 30), True, datetime(2026, 11, 25, 10, 30)),  # within hours
        (datetime(2026, 11, 25, 18, 0), True, datetime(2026, 11, 25, 9, 0)),  # evening → morning
        (datetime(2026, 11, 25, 18, 0), False, datetime(2026, 11, 26, 9, 0)),  # → next morning
        (datetime(2026, 11, 25, 7, 0), True, datetime(2026, 11, 24, 9, 0)),  # dawn: day before
        (datetime(2026, 11, 25, 7, 0), False, datetime(2026, 11, 25, 9, 0)),
        (datetime(2026, 11, 23, 9, 0), True, datetime(2026, 11, 20, 9, 0)),  # holiday Monday
        (datetime(2026, 11, 23, 9, 0), False, datetime(2026, 11, 24, 9, 0)),
        (datetime(2027, 1, 1, 9, 0), True, datetime(2026, 12, 28, 9, 0)),  # New Year
        (datetime(2027, 1, 1, 9, 0), False, datetime(2027, 1, 4, 9, 0)),
    ],
)
def test_decent_moments(moment: datetime, leading: bool, expected: datetime) -> None:
    got = decent_moment(moment.replace(tzinfo=TOKYO), TOKYO, leading=leading)
    assert got == expected.replace(tzinfo=TOKYO)


def test_business_days_before_skips_holidays() -> None:
    assert business_days_before(date(2026, 11, 24), 1) == date(2026, 11, 20)  # over 11/23
    assert business_days_before(date(2027, 1, 4), 1) == date(2026, 12, 28)  # over the closure


def test_chase_slots_merge_when_a_holiday_folds_them_together() -> None:
    # due on Sunday 11/22 with a 2-day lead: both the lead (Fri 11/20) and the day move to
    # Friday 11/20 morning; the person gets one reminder, the more urgent one.
    slots = chase_slots(date(2026, 11, 22), (2,), 5, TOKYO)
    assert [(s.tag, s.at.date()) for s in slots[:2]] == [
        ("due", date(2026, 11, 20)),
        ("w1", date(2026, 11, 30)),
    ]


# --- the rules on the demo data -------------------------------------------------------------


def test_every_moment_is_a_business_morning(demo: Flask) -> None:
    planned = plan(demo)
    assert len(planned) > 500
    assert {p.kind for p in planned} == {
        "meeting",
        "kpi_entry",
        "action_item",
        "renewal",
        "review",
        "cadence",
        "dormancy",
        "digest",
        "escalation",
    }
    for p in planned:
        assert p.send_at.tzinfo is not None and p.send_at.utcoffset() == timedelta(hours=9)
        assert p.send_at.hour == 9 and p.send_at.minute == 0, p
        assert is_business_day(p.send_at.date()), p


def test_meetings_go_to_both_sides_primary_and_secondary(demo: Flask) -> None:
    meeting = [p for p in plan(demo) if p.kind == "meeting" and "第8回 実務者会議" in p.subject]
    by_day = Counter(p.send_at for p in meeting)
    # the business day before; 7 days before (Thu 12/3) is left out by the attention budget:
    # Monday 11/30's digest listed the meeting in its next two weeks
    assert by_day == {at(12, 9): 4}
    assert {p.recipient for p in meeting} == {"tanaka", "suzuki", "sato", "ito"}
    assert all(p.platform == "local" for p in meeting)  # nobody has linked an account yet


def test_a_meeting_on_monday_is_announced_on_friday(demo: Flask) -> None:
    steering = [p for p in plan(demo) if p.kind == "meeting" and "推進会議" in p.subject]
    assert sorted({p.send_at for p in steering}) == [at(2, 1), at(2, 5)]  # for Mon 2/8


def test_a_cancelled_meeting_is_not_reminded(demo: Flask) -> None:
    with transaction(demo.extensions["renkei"].sessions) as s:
        s.scalar(select(Meeting).where(Meeting.title == "第8回 実務者会議")).cancelled = True
    assert not [p for p in plan(demo) if "第8回 実務者会議" in p.subject]


def test_kpi_entry_is_requested_chased_and_escalated(demo: Flask) -> None:
    q3 = [p for p in plan(demo) if "防災訓練参加者数（2026年度 第3四半期）" in p.subject]
    got = sorted((p.send_at.date(), p.kind, p.recipient) for p in q3)
    assert got == [
        (date(2027, 1, 4), "kpi_entry", "sato"),  # the period ended 12/31: after the closure
        (date(2027, 1, 4), "kpi_entry", "tanaka"),
        # 3 days before 1/14 (成人の日, so Fri 1/8) is not urgent (3 business days ahead) and
        # the 1/4 digest listed the deadline: the attention budget leaves it out
        (date(2027, 1, 14), "kpi_entry", "sato"),
        (date(2027, 1, 14), "kpi_entry", "tanaka"),
        (date(2027, 1, 21), "escalation", "ito"),  # the first overdue week: secondaries too
        (date(2027, 1, 21), "escalation", "suzuki"),
        (date(2027, 1, 21), "kpi_entry", "sato"),
        (date(2027, 1, 21), "kpi_entry", "tanaka"),
        (date(2027, 1, 28), "escalation", "ito"),  # nag limit: one last note, then silence
        (date(2027, 1, 28), "escalation", "suzuki"),
    ]


def test_an_entered_kpi_value_stops_its_reminders(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        kpi_id = s.scalar(select(Kpi.id).where(Kpi.key == "drill"))
        s.add(KpiEntry(kpi_id=kpi_id, period_start=date(2026, 10, 1), value=50, entered_at=NOW))
    assert not [p for p in plan(demo) if "防災訓練参加者数（2026年度 第3四半期）" in p.subject]


def test_kpi_escalation_reaches_the_slack_channel(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        s.scalar(select(Agreement).where(Agreement.key == "minato-acme")).slack_channel = "CMINATO"
    esc = [p for p in plan(demo) if p.recipient == "slack:CMINATO" and p.kind == "escalation"]
    assert [(p.send_at.date(), p.platform) for p in esc] == [
        (date(2026, 10, 21), "slack"),
        (date(2026, 10, 28), "slack"),
        (date(2027, 1, 21), "slack"),
        (date(2027, 1, 28), "slack"),
    ]


def test_action_items_nag_the_owner_then_copy_the_other_side_then_stop(demo: Flask) -> None:
    item = [p for p in plan(demo) if "協定書改定案の送付" in p.subject]
    got = sorted((p.send_at.date(), p.recipient, p.subject.split("】")[0] + "】") for p in item)
    assert got == [
        (date(2026, 12, 2), "sato", "【タスク 期限まであと3日】"),
        (date(2026, 12, 4), "sato", "【タスク 期限まであと1日】"),  # due on Saturday 12/5
        (date(2026, 12, 14), "sato", "【タスク 期限超過（9日）】"),
        (date(2026, 12, 14), "tanaka", "【タスク 期限超過（9日）】"),  # the other side's primary
        (date(2026, 12, 21), "sato", "【タスク 期限超過（16日）】"),
        (date(2026, 12, 21), "tanaka", "【タスク 期限超過（16日）】"),
        (date(2026, 12, 28), "ito", "【最終のお知らせ】"),  # the owner's secondary, once
    ]
    # the nag limit: at most 4 reminders per item and person
    assert max(Counter(p.recipient for p in item).values()) == 4


def test_renewal_counts_back_from_the_notice_deadline(demo: Flask) -> None:
    renewal = [p for p in plan(demo) if p.kind == "renewal" and p.agreement_key == "minato-acme"]
    assert sorted({p.send_at.date() for p in renewal}) == [
        # the attention budget: not urgent ones on the touch day (Mon/Thu) on or before
        date(2026, 10, 1),  # 90 days before 12/31 is Fri 10/2
        date(2026, 10, 29),  # 60 days before is Sunday 11/1, so Fri 10/30, so Thu 10/29
        date(2026, 11, 30),  # 30 days before is Tue 12/1
        date(2026, 12, 17),
        date(2026, 12, 24),  # 2 business days before the deadline: urgent, on its day
        date(2026, 12, 28),  # the deadline itself falls in the year-end closure
    ]
    assert {p.recipient for p in renewal} == {"tanaka", "suzuki", "sato", "ito"}
    review = [p for p in plan(demo) if p.kind == "review" and p.agreement_key == "minato-acme"]
    # 180 days before 3/31 is Fri 10/2: the touch day before it
    assert {p.send_at.date() for p in review} == {date(2026, 10, 1)}
    assert "総合評価" in review[0].subject


def test_renewal_without_auto_renewal_counts_back_from_the_end(demo: Flask) -> None:
    ends = [p for p in plan(demo) if p.kind == "renewal" and p.agreement_key == "sakura-hikari"]
    assert sorted({p.send_at.date() for p in ends}) == [
        date(2026, 9, 17),  # 90 days before the end on 12/16
        date(2026, 10, 15),  # Fri 10/16 → the touch day before (attention budget)
        date(2026, 11, 16),
        date(2026, 11, 30),  # Wed 12/2 → Monday
        date(2026, 12, 7),  # Wed 12/9 → Monday (5 business days ahead: not urgent)
        date(2026, 12, 16),
    ]
    # after the end: no digest, cadence or dormancy; what was left open is chased to its limit
    later = plan(demo, start=at(12, 17), end=FY_END)
    kinds = {p.kind for p in later if p.agreement_key == "sakura-hikari"}
    assert kinds == {"kpi_entry", "escalation"}
    assert not [p for p in later if p.kind == "digest" and p.recipient == "nakamura"]


def test_cadence_nudges_when_no_meeting_is_scheduled(demo: Flask) -> None:
    cadence = [p for p in plan(demo) if p.kind == "cadence" and p.agreement_key == "minato-acme"]
    assert sorted({p.send_at.date() for p in cadence}) == [
        date(2027, 2, 8),  # 30 days before 3/10 (3 months after the meeting on 12/10)
        date(2027, 3, 10),
        date(2027, 3, 17),  # the first overdue notice keeps its day
        date(2027, 3, 25),  # a later nag (Wed 3/24): the touch day after (attention budget)
    ]
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:  # the next working meeting gets scheduled
        minato = s.scalar(select(Agreement.id).where(Agreement.key == "minato-acme"))
        s.add(
            Meeting(
                agreement_id=minato,
                kind="working",
                title="第9回 実務者会議",
                starts_at=datetime(2027, 3, 5, 14, tzinfo=TOKYO),
            )
        )
    again = [p for p in plan(demo) if p.kind == "cadence" and p.agreement_key == "minato-acme"]
    assert not [p for p in again if p.send_at < at(3, 31)]


def test_dormancy_is_measured_from_the_last_sign_of_life(demo: Flask) -> None:
    def dormant() -> list[date]:
        found = [
            p
            for p in plan(demo)
            if p.kind in ("dormancy", "escalation")
            and p.agreement_key == "sakura-platform"
            and "活動の記録" in p.subject
        ]
        return sorted({p.send_at.date() for p in found})

    # the last sign of life is the meeting on 12/17: nudged from 60 days later, weekly, 4 times
    assert dormant() == [
        date(2027, 2, 15),
        date(2027, 2, 22),
        date(2027, 3, 1),
        date(2027, 3, 8),
        date(2027, 3, 15),  # the last note, to the secondaries
    ]
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        platform = s.scalar(select(Agreement.id).where(Agreement.key == "sakura-platform"))
        s.add(
            Activity(
                agreement_id=platform,
                occurred_on=date(2027, 1, 20),
                title="海岸清掃",
                counts={},
                platform="local",
                created_at=NOW,
            )
        )
    assert dormant()[0] == date(2027, 3, 23)  # 60 days after: 3/21 春分の日, 3/22 振替休日


def test_a_linked_account_decides_the_platform(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        tanaka = s.scalar(select(Contact.id).where(Contact.key == "tanaka"))
        s.add(ChatIdentity(platform="line", external_id="U1", contact_id=tanaka, linked_at=NOW))
    mine = [p for p in plan(demo) if p.recipient == "tanaka"]
    assert mine and {(p.platform, p.address) for p in mine} == {("line", "U1")}


def test_lead_times_can_be_overridden_in_the_agreement_file(app: Flask) -> None:
    text = """
organizations:
  - {key: town, name: みどり町, kind: municipality}
  - {key: co, name: 株式会社みどり, kind: company}
contacts:
  - {key: a, name: 青木, organization: town}
  - {key: b, name: 馬場, organization: co}
agreements:
  - key: midori
    title: みどり町と株式会社みどりとの包括連携協定
    parties: [town, co]
    starts_on: 2026-04-01
    ends_on: 2029-03-31
    contacts: {town: {primary: a}, co: {primary: b}}
    reminders: {meeting_days: [14, 3], meeting_business_days: [], action_item_days: [1], nag_limit: 2, attention_budget: false}
    meetings:
      - {kind: working, title: 定例会, at: "2026-12-16T10:00"}
    action_items:
      - {title: 報告, owner: a, due_on: 2026-12-10}
"""
    r = app.extensions["renkei"]
    with transaction(r.sessions) as s:
        import_agreements(s, parse_agreement_file(text), tz=TOKYO, now=NOW)
    planned = plan(app, start=at(11, 1), end=at(12, 31))
    meeting = sorted({p.send_at.date() for p in planned if p.kind == "meeting"})
    assert meeting == [
        date(2026, 12, 2),
        date(2026, 12, 11),
    ]  # 14 and 3 days before 12/16 (Sun→Fri)
    task = sorted((p.send_at.date(), p.kind) for p in planned if "報告" in p.subject)
    # nag limit 2: the day before and the day; no one else on the owner's side for a last note
    # (the budget is off for this agreement: every lead on its own day)
    assert task == [(date(2026, 12, 9), "action_item"), (date(2026, 12, 10), "action_item")]
    with pytest.raises(AgreementFileError) as err:
        parse_agreement_file(text.replace("nag_limit: 2", "nag_limit: 0"))
    assert "agreements[0].reminders.nag_limit" in str(err.value)
    with pytest.raises(AgreementFileError) as err:
        parse_agreement_file(text.replace("nag_limit: 2", "nag: 2"))
    assert "agreements[0].reminders.nag: unknown key" in str(err.value)


# --- the preview command --------------------------------------------------------------------


def test_preview_json_has_exactly_the_contract_keys_and_writes_nothing(demo: Flask) -> None:
    result = demo.test_cli_runner().invoke(
        args=["reminders", "preview", "--from", "2026-12-01", "--to", "2026-12-10", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(
        set(r) == {"send_at", "recipient", "platform", "kind", "agreement", "subject"} for r in rows
    )
    assert all(r["send_at"].endswith("+09:00") for r in rows)
    assert {"kind": "meeting", "recipient": "tanaka", "platform": "local"}.items() <= next(
        r for r in rows if r["kind"] == "meeting" and r["recipient"] == "tanaka"
    ).items()
    digest = [r for r in rows if r["kind"] == "digest"]
    assert {r["send_at"] for r in digest} == {"2026-12-07T09:00:00+09:00"}  # Monday
    assert {r["agreement"] for r in digest} == {None}  # per person, across agreements
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Outbox)) == 0


def test_preview_lists_the_year_and_sums_up_coalescing(demo: Flask) -> None:
    runner = demo.test_cli_runner()
    text = runner.invoke(
        args=["reminders", "preview", "--from", "2026-04-01", "--to", "2027-04-01"]
    )
    assert text.exit_code == 0
    assert "2026-12-09 09:00 水  local tanaka" in text.stdout and "第8回 実務者会議" in text.stdout
    summary = runner.invoke(
        args=["reminders", "preview", "--from", "2026-12-01", "--to", "2027-01-01", "--summary"]
    )
    assert "LINE pushes if everyone used LINE" in summary.stdout
    saved = int(summary.stdout.rsplit("saved ", 1)[1].split()[0])
    assert saved > 0
    # before and after the attention budget: fewer pushes with it
    line = summary.stdout.split("attention budget: pushes ", 1)[1]
    before, after = line.split(" before, ")[:2]
    assert int(after.split()[0]) < int(before)
    bad = runner.invoke(args=["reminders", "preview", "--from", "yesterday"])
    assert bad.exit_code != 0 and "--from" in bad.output


def test_a_deadline_in_another_fiscal_year_than_the_reminder_carries_its_year(
    demo: Flask,
) -> None:
    """Nagged on 4/5 about a task due 3/29, the reminder must not read as the new year's 3/29."""
    with transaction(demo.extensions["renkei"].sessions) as s:
        minato = s.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert minato is not None
        sato = s.scalar(select(Contact.id).where(Contact.key == "sato"))
        s.add(
            ActionItem(
                agreement_id=minato.id,
                title="年度末の実績報告",
                owner_id=sato,
                due_on=date(2027, 3, 29),
            )
        )
    item = [
        p
        for p in plan(demo, end=datetime(2027, 4, 30, tzinfo=TOKYO))
        if "年度末の実績報告" in p.subject
    ]
    by_day = {(p.send_at.date(), p.recipient): p.subject for p in item}
    assert "（期限 3/29（月）、" in by_day[(date(2027, 3, 26), "sato")]  # same fiscal year
    assert "（期限 2027/3/29（月）、" in by_day[(date(2027, 4, 5), "sato")]  # the next one
