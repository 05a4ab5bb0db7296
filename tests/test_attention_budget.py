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
from storage.models import ActionItem, Agreement, ChatIdentity, Contact, Meeting
from tests.conftest import NOW, TOKYO
from tests.support import say

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
    # the day itself, the first overdue notice, every escalation and the last note
    urgent = {k: d for k, d in before.items() if re.search(r"\|(due|w1|w\d+esc|last)\|", k)}
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
        if re.search(r"\|(req|w\d+)\|", key):  # a request, a later nag: the next touch day
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


NAGS = """
organizations:
  - {key: town, name: あおば町, kind: municipality}
  - {key: co, name: 株式会社あおば, kind: company}
contacts:
  - {key: p, name: 平田, organization: town}
  - {key: s, name: 関, organization: town}
  - {key: q, name: 久保, organization: co}
agreements:
  - key: aoba
    title: あおば町と株式会社あおばとの包括連携協定
    parties: [town, co]
    starts_on: 2026-04-01
    ends_on: 2029-03-31
    slack_channel: CAOBA
    contacts: {town: {primary: p, secondary: s}, co: {primary: q}}
    reminders: {nag_limit: 6}
    kpis:
      - {key: visits, name: 訪問件数, unit: 件, period: monthly, baseline: 0, target: 100,
         target_date: 2027-03-31, direction: up, aggregation: sum, entry_due_days: 14}
    action_items:
      - {title: 報告書, owner: p, due_on: 2026-12-25}
"""


def test_later_nags_go_on_touch_days_their_escalations_keep_their_day(app: Flask) -> None:
    with transaction(app.extensions["renkei"].sessions) as s:
        import_agreements(s, parse_agreement_file(NAGS), tz=TOKYO, now=NOW)
    planned = [p for p in plan(app) if p.agreement_key == "aoba"]
    before = [p for p in plan(app, budget=False) if p.agreement_key == "aoba"]
    was = {p.dedupe_key: p.send_at.date() for p in before}
    task = {
        p.dedupe_key.split("|")[1]: p.send_at.date()
        for p in planned
        if p.item_key.startswith("action_item:") and p.recipient == "p"
    }
    # due Fri 12/25; the first overdue notice (a week later, the year-end closure: Mon 1/4)
    # keeps its day; the next nags (Fri 1/8, 1/15, 1/22) go on the touch day after: Tue 1/12
    # (成人の日 on Monday), Mon 1/18, Mon 1/25; the last note (Fri 1/29) keeps its day
    assert task["due"] == date(2026, 12, 25) and task["w1"] == date(2027, 1, 4)
    assert [task[f"w{n}"] for n in (2, 3, 4)] == [
        date(2027, 1, 12),
        date(2027, 1, 18),
        date(2027, 1, 25),
    ]
    assert all(is_touch_day(task[f"w{n}"]) for n in (2, 3, 4))
    last = [p for p in planned if p.item_key.startswith("action_item:") and p.kind == "escalation"]
    assert {p.send_at.date() for p in last} == {was[last[0].dedupe_key]} == {date(2027, 1, 29)}
    # September's KPI value, missing (due Wed 10/14): the first overdue notice keeps Wed 10/21;
    # the primaries' next nags go on Thursdays, their escalations to the secondary and the
    # channel stay on Wednesdays
    september = [p for p in planned if p.item_key.endswith(".20260901")]
    nags = {p.dedupe_key.split("|", 1)[1]: p.send_at.date() for p in september}
    assert nags["w1|p"] == date(2026, 10, 21)
    assert (nags["w2|p"], nags["w3|q"]) == (date(2026, 10, 29), date(2026, 11, 5))
    assert (nags["w2esc|slack:CAOBA"], nags["w3esc|s"]) == (date(2026, 10, 28), date(2026, 11, 4))
    assert all(
        d == was[p.dedupe_key]
        for p in september
        if p.kind == "escalation"
        for d in [p.send_at.date()]
    )
    # moved, never dropped or added: every nag, escalation and last note is planned once
    keys = [p.dedupe_key for p in planned]
    assert len(keys) == len(set(keys)) and set(keys) <= set(was)
    chased = {k for k, d in was.items() if re.search(r"\|(w\d+|w\d+esc|last)\|", k)}
    assert {k for k in chased if was[k] < date(2027, 3, 22)} <= set(keys)


LISTS = """
organizations:
  - {key: town, name: きた町, kind: municipality}
  - {key: co, name: 株式会社きた, kind: company}
contacts:
  - {key: k, name: 北村, organization: town}
  - {key: m, name: 南, organization: town}
  - {key: c, name: 千葉, organization: co}
agreements:
  - key: kita
    title: きた町と株式会社きたとの包括連携協定
    parties: [town, co]
    starts_on: 2026-04-01
    ends_on: 2029-03-31
    contacts: {town: {primary: k}, co: {primary: c}}
    reminders: {action_item_days: [7]}
    action_items:
{fillers}
      - {title: 目標の報告, owner: k, due_on: 2026-12-17}
  - key: minami
    title: きた町と株式会社きたとの連携協定（南）
    parties: [town, co]
    starts_on: 2026-04-01
    ends_on: 2029-03-31
    contacts: {town: {primary: m}, co: {primary: c}}
    reminders: {action_item_days: [7]}
    meetings:
      - {kind: working, title: 既存の定例会, at: "2026-12-17T10:00"}
    action_items:
      - {title: 目標の報告, owner: m, due_on: 2026-12-17}
"""


def test_only_what_the_digest_really_listed_is_left_out(app: Flask) -> None:
    fillers = "\n".join(
        f"      - {{title: 準備{n}, owner: k, due_on: 2026-12-{8 + n:02d}}}" for n in range(7)
    )
    with transaction(app.extensions["renkei"].sessions) as s:
        text = LISTS.replace("{fillers}", fillers)
        import_agreements(s, parse_agreement_file(text), tz=TOKYO, now=NOW)
    # Tuesday 12/8, after Monday's digest: a meeting on 12/17 is added through the chat
    app.extensions["renkei"].clock.now = datetime(2026, 12, 8, 10, 0, tzinfo=TOKYO)
    assert "登録" in say(app, "m", "会議 12/17 14:00 追加の定例会 町役場").text
    with app.extensions["renkei"].sessions() as s:
        added = s.scalar(select(Meeting.id).where(Meeting.title == "追加の定例会"))
    planned = [p for p in plan(app) if p.agreement_key in ("kita", "minami")]

    def on_thursday(agreement: str, recipient: str) -> list[str]:
        return sorted(
            p.item_key
            for p in planned
            if p.agreement_key == agreement
            and p.recipient == recipient
            and p.send_at.date() == date(2026, 12, 10)
        )

    # The task due 12/17 is 7 days ahead on Thursday 12/10 (not urgent). Monday 12/7's digest
    # for minami listed it: left out. For kita it is the 8th line of 「今後2週間」 (the card shows
    # 6, then 「ほか2件」): the digest did not list it, so it is pushed.
    with app.extensions["renkei"].sessions() as s:
        kita_task, minami_task = (
            s.scalar(
                select(ActionItem.id)
                .join(Agreement)
                .where(Agreement.key == key, ActionItem.title == "目標の報告")
            )
            for key in ("kita", "minami")
        )
    assert f"action_item:{kita_task}" in on_thursday("kita", "k")
    assert f"action_item:{minami_task}" not in on_thursday("minami", "m")
    # the meeting imported before the digest was listed; the one added on Tuesday was not
    meetings = on_thursday("minami", "m")
    assert f"meeting:{added}" in meetings
    assert [k for k in meetings if k.startswith("meeting:")] == [f"meeting:{added}"]
    # budget off: both leads are there, on their own day
    before = [p for p in plan(app, budget=False) if p.recipient in ("k", "m")]
    assert {p.item_key for p in before if p.send_at.date() == date(2026, 12, 10)} >= {
        f"action_item:{kita_task}",
        f"action_item:{minami_task}",
    }


def test_the_budget_reads_as_many_lines_as_the_digest_card_shows() -> None:
    from bot.digest import MAX_LINES
    from reminders.budget import DIGEST_LINES

    assert DIGEST_LINES == MAX_LINES
