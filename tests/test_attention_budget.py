"""The attention budget (issue 13): urgent reminders on their day, the others on a person's two
touch days a week, nothing the digest listed pushed again early, and no personal digest for
what the agreement's LINE group or Slack channel digest already brings."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Flask
from sqlalchemy import select

from reminders.budget import is_touch_day, touch_days
from reminders.planner import Planned, plan_notifications
from storage.agreement_file import parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements
from storage.models import Agreement, ChatIdentity, Contact
from tests.conftest import NOW, TOKYO

FY_START = datetime(2026, 4, 1, tzinfo=TOKYO)
FY_END = datetime(2027, 4, 1, tzinfo=TOKYO)


def plan(app: Flask, *, budget: bool = True) -> list[Planned]:
    with app.extensions["renkei"].sessions() as session:
        return plan_notifications(
            session, now=NOW, tz=TOKYO, start=FY_START, end=FY_END, budget=budget
        )


def moments(planned: list[Planned]) -> dict[str, date]:
    return {p.dedupe_key: p.send_at.date() for p in planned}


def test_touch_days_are_the_digest_day_and_thursday_moved_by_holidays() -> None:
    assert touch_days(date(2026, 11, 30)) == (date(2026, 11, 30), date(2026, 12, 3))
    # 勤労感謝の日 on Monday: the digest day is Tuesday
    assert touch_days(date(2026, 11, 23)) == (date(2026, 11, 24), date(2026, 11, 26))
    # 建国記念の日 on Thursday: the next business day, Friday
    assert touch_days(date(2027, 2, 8)) == (date(2027, 2, 8), date(2027, 2, 12))
    # Golden Week: Monday to Wednesday are holidays; Thursday is the digest day and the touch
    assert touch_days(date(2026, 5, 4)) == (date(2026, 5, 7),)
    # the year-end closure takes Thursday 12/31: only Monday 12/28
    assert touch_days(date(2026, 12, 28)) == (date(2026, 12, 28),)


def test_urgent_reminders_keep_their_day(demo: Flask) -> None:
    budget, before = moments(plan(demo)), moments(plan(demo, budget=False))
    urgent = {k: d for k, d in before.items() if re.search(r"\|(due|w\d+|w\d+esc|last)\|", k)}
    assert urgent and all(budget[k] == d for k, d in urgent.items())
    # a task due on Saturday 12/5: 3 days before (Wed 12/2) is within 2 business days of it
    draft = sorted(
        (p.send_at.date(), p.subject.split("】")[0] + "】")
        for p in plan(demo)
        if "協定書改定案の送付" in p.subject
    )
    assert draft[:2] == [
        (date(2026, 12, 2), "【タスク 期限まであと3日】"),
        (date(2026, 12, 4), "【タスク 期限まであと1日】"),
    ]
    assert not is_touch_day(date(2026, 12, 2))


def test_non_urgent_reminders_go_on_touch_days_never_after_their_moment(demo: Flask) -> None:
    budget, before = moments(plan(demo)), moments(plan(demo, budget=False))
    # the keys stay: a moved reminder keeps its dedupe key, and nothing new appears
    assert set(budget) <= set(before)
    moved = {k: (before[k], d) for k, d in budget.items() if d != before[k]}
    assert len(moved) >= 20
    for key, (was, now) in moved.items():
        assert is_touch_day(now), key
        if "|req|" in key:  # a request waits for the period's end: the next touch day
            assert was < now, key
        else:  # a lead must not arrive late: the touch day before
            assert now < was, key
    # renewal 90 days before 12/31 is Friday 10/2: Thursday 10/1, its days counted from then
    renewal = [
        p for p in plan(demo) if p.dedupe_key.startswith("renewal:") and "|d90|" in p.dedupe_key
    ]
    assert {p.send_at.date() for p in renewal if p.agreement_key == "minato-acme"} == {
        date(2026, 10, 1)
    }
    assert all("あと91日" in p.subject for p in renewal if p.agreement_key == "minato-acme")


FILE = """
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
    reminders: {action_item_days: [10, 21], nag_limit: 6}
    meetings:
      - {kind: working, title: 定例会, at: "2026-12-17T10:00"}
    action_items:
      - {title: 報告書, owner: a, due_on: 2026-12-25}
      - {title: 予算案, owner: a, due_on: 2027-01-29}
"""


def _load(app: Flask, text: str) -> list[Planned]:
    with transaction(app.extensions["renkei"].sessions) as s:
        import_agreements(s, parse_agreement_file(text), tz=TOKYO, now=NOW)
    return [p for p in plan(app) if p.agreement_key in ("midori", None) and p.recipient == "a"]


def test_what_the_digest_listed_is_not_pushed_again_before_it_is_urgent(app: Flask) -> None:
    planned = _load(app, FILE)
    meeting = sorted(p.send_at.date() for p in planned if p.kind == "meeting")
    # 7 days before 12/17 is Thursday 12/10: Monday 12/7's digest listed the meeting; only the
    # business day before (urgent) is pushed
    assert meeting == [date(2026, 12, 16)]
    report = sorted(
        p.send_at.date() for p in planned if "報告書" in p.subject and "期限まで" in p.subject
    )
    # 21 days before 12/25 is Fri 12/4 (not listed by 11/30's digest): the touch day before,
    # Thu 12/3; 10 days before is Tue 12/15 → Mon 12/14, the digest day: it rides in its push
    assert report == [date(2026, 12, 3), date(2026, 12, 14)]
    budget = sorted(
        p.send_at.date() for p in planned if "予算案" in p.subject and "期限まで" in p.subject
    )
    # 21 days before 1/29 is Fri 1/8 → Thu 1/7 (1/4's digest lists up to 1/17: not listed);
    # 10 days before is Tue 1/19 → Mon 1/18, the digest day
    assert budget == [date(2027, 1, 7), date(2027, 1, 18)]
    digests = {p.send_at.date() for p in planned if p.kind == "digest"}
    assert {date(2026, 12, 7), date(2026, 12, 14), date(2027, 1, 18)} <= digests


def test_an_agreement_can_turn_the_budget_off(app: Flask) -> None:
    planned = _load(app, FILE.replace("nag_limit: 6}", "nag_limit: 6, attention_budget: false}"))
    meeting = sorted(p.send_at.date() for p in planned if p.kind == "meeting")
    assert meeting == [date(2026, 12, 10), date(2026, 12, 16)]
    report = sorted(
        p.send_at.date() for p in planned if "報告書" in p.subject and "期限まで" in p.subject
    )
    assert report == [date(2026, 12, 4), date(2026, 12, 15)]


def test_the_group_or_channel_digest_replaces_the_personal_one(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        ids = dict(s.execute(select(Contact.key, Contact.id)).all())
        for key, platform, external in (("tanaka", "line", "Utanaka"), ("sato", "slack", "Usato")):
            s.add(
                ChatIdentity(
                    platform=platform, external_id=external, contact_id=ids[key], linked_at=NOW
                )
            )
        minato = s.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        minato.line_group, minato.slack_channel = "Cminato", "CMINATO"
    week = [p for p in plan(demo) if p.kind == "digest" and p.send_at.date() == date(2026, 11, 30)]
    personal = {p.recipient: p.detail for p in week if p.agreement_key is None}
    groups = {p.recipient for p in week if p.agreement_key == "minato-acme"}
    assert groups == {"line:Cminato", "slack:CMINATO"}
    # tanaka (LINE) and sato (Slack) get minato-acme in its group/channel, not again in person
    for who in ("tanaka", "sato"):
        assert "minato-acme" not in personal.get(who, ())
    # suzuki has no chat account: the personal digest still covers the agreement
    assert "minato-acme" in personal["suzuki"]
    # no personal digest when nothing is left
    assert all(detail for detail in personal.values())
    with r.sessions() as s:
        only = {k for (k,) in s.execute(select(Agreement.key))}
    assert "tanaka" not in personal or set(personal["tanaka"]) < only
