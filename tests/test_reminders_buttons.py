"""The buttons under each reminder: 完了 / 対応済み stop it, スヌーズ postpones it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from flask import Flask
from sqlalchemy import select

from bot.scheduler import plan
from handlers.commands.reminders import NOT_YOURS, acknowledge, snooze
from handlers.context import Context
from handlers.messages import Incoming, Reply
from reminders.planner import plan_notifications
from storage.db import transaction
from storage.models import ActionItem, Agreement, Contact, Meeting, Outbox
from tests.conftest import NOW, TOKYO

YEAR = (datetime(2026, 11, 1, tzinfo=TOKYO), datetime(2027, 4, 1, tzinfo=TOKYO))


@contextmanager
def chat(app: Flask, who: str, now: datetime = NOW) -> Iterator[Context]:
    with transaction(app.extensions["renkei"].sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.key == who))
        yield Context(session, Incoming("local", who, ""), contact, now, TOKYO)


def say(app: Flask, who: str, command: str, args: str, now: datetime = NOW) -> Reply:
    with chat(app, who, now) as ctx:
        return (snooze if command == "スヌーズ" else acknowledge)(ctx, args)


def planned(app: Flask, item_key: str) -> list[tuple[datetime, str, str]]:
    with app.extensions["renkei"].sessions() as s:
        found = plan_notifications(s, now=NOW, tz=TOKYO, start=YEAR[0], end=YEAR[1])
    return sorted((p.send_at, p.recipient, p.subject) for p in found if p.item_key == item_key)


def ids(app: Flask) -> dict[str, int]:
    with app.extensions["renkei"].sessions() as s:
        return {
            "minato": s.scalar(select(Agreement.id).where(Agreement.key == "minato-acme")),
            "meeting8": s.scalar(select(Meeting.id).where(Meeting.title == "第8回 実務者会議")),
            "hikari_meeting": s.scalar(
                select(Meeting.id).where(Meeting.title.startswith("協定期間満了"))
            ),
            "draft": s.scalar(
                select(ActionItem.id).where(ActionItem.title == "協定書改定案の送付")
            ),
        }


def test_planned_reminders_carry_the_buttons(demo: Flask) -> None:
    i = ids(demo)
    r = demo.extensions["renkei"]
    plan(r.sessions, now=datetime(2026, 12, 4, 9, tzinfo=TOKYO), tz=TOKYO)
    # the meeting's reminder is the business day before it (12/9): its 7-days-before one was
    # listed by the 11/30 digest (attention budget)
    plan(r.sessions, now=datetime(2026, 12, 9, 9, tzinfo=TOKYO), tz=TOKYO)
    with r.sessions() as s:
        rows = {row.item_key: row for row in s.scalars(select(Outbox))}
    task = rows[f"action_item:{i['draft']}"].payload["buttons"]
    assert [b["text"] for b in task] == [f"完了 {i['draft']}", f"スヌーズ action_item:{i['draft']}"]
    meeting = rows[f"meeting:{i['meeting8']}"].payload["buttons"]
    assert [b["text"] for b in meeting] == [
        f"対応済み meeting:{i['meeting8']}",
        f"スヌーズ meeting:{i['meeting8']}",
    ]


def test_acknowledge_stops_the_item_for_everyone(demo: Flask) -> None:
    key = f"renewal:{ids(demo)['minato']}.20270331"
    assert {who for _at, who, _s in planned(demo, key)} == {"tanaka", "suzuki", "sato", "ito"}
    reply = say(demo, "sato", "対応済み", key)
    assert "協定の更新を対応済みにしました" in reply.text
    assert planned(demo, key) == []
    assert "すでに対応済み" in say(demo, "tanaka", "対応済み", key).text


def test_snooze_postpones_to_a_business_morning_once(demo: Flask) -> None:
    key = f"meeting:{ids(demo)['meeting8']}"
    before = planned(demo, key)
    # 7 days before (Thu 12/3) is left out by the attention budget: the 11/30 digest listed it
    assert {at.date() for at, _w, _s in before} == {date(2026, 12, 9)}
    now = datetime(2026, 12, 3, 9, 5, tzinfo=TOKYO)  # a week before the meeting
    reply = say(demo, "tanaka", "スヌーズ", f"{key} 5日", now)
    assert "12/8（火） 09:00まで止めました" in reply.text  # the morning 5 days later
    after = planned(demo, key)
    again = [(at, who, s) for at, who, s in after if s.startswith("【再通知】")]
    assert {at for at, _w, _s in again} == {datetime(2026, 12, 8, 9, tzinfo=TOKYO)}
    assert {who for _at, who, _s in again} == {"tanaka", "suzuki", "sato", "ito"}
    # the business-day-before reminder on 12/9 is after the snooze: it still comes (and the
    # snooze's end, asked for by a person, is urgent: on its day, not a touch day)
    assert {at.date() for at, _w, s in after if not s.startswith("【再通知】")} == {
        date(2026, 12, 9),
    }


def test_snooze_cancels_what_is_waiting_in_the_outbox(demo: Flask) -> None:
    i = ids(demo)
    r = demo.extensions["renkei"]
    plan(r.sessions, now=datetime(2026, 12, 4, 9, tzinfo=TOKYO), tz=TOKYO)
    say(
        demo,
        "sato",
        "スヌーズ",
        f"action_item:{i['draft']}",
        datetime(2026, 12, 4, 9, 1, tzinfo=TOKYO),
    )
    with r.sessions() as s:
        row = s.scalar(select(Outbox).where(Outbox.item_key == f"action_item:{i['draft']}"))
    assert row.status == "cancelled" and "snoozed" in (row.error or "")
    # planning again does not bring it back; the re-notice comes 3 days later (Monday morning)
    plan(r.sessions, now=datetime(2026, 12, 4, 9, 2, tzinfo=TOKYO), tz=TOKYO)
    with r.sessions() as s:
        pending = s.scalars(
            select(Outbox).where(
                Outbox.item_key == f"action_item:{i['draft']}", Outbox.status == "pending"
            )
        ).all()
    assert pending == []
    again = planned(demo, f"action_item:{i['draft']}")
    assert (datetime(2026, 12, 7, 9, tzinfo=TOKYO), "sato") in [(a, w) for a, w, _s in again]


def test_a_task_is_closed_with_kanryo(demo: Flask) -> None:
    draft = ids(demo)["draft"]
    reply = say(demo, "sato", "対応済み", f"action_item:{draft}")
    assert f"「完了 {draft}」" in reply.text and reply.buttons[0].text == f"完了 {draft}"


def test_only_contacts_of_the_agreement_may_press_the_buttons(demo: Flask) -> None:
    other = ids(demo)["hikari_meeting"]
    for command in ("スヌーズ", "対応済み"):
        assert say(demo, "tanaka", command, f"meeting:{other}").text == NOT_YOURS
        assert say(demo, "tanaka", command, "meeting:99999").text == NOT_YOURS
    assert planned(demo, f"meeting:{other}")  # untouched


def test_bad_input_gets_a_clear_answer(demo: Flask) -> None:
    key = f"meeting:{ids(demo)['meeting8']}"
    assert "ボタン" in say(demo, "tanaka", "スヌーズ", "").text
    assert "読めませんでした" in say(demo, "tanaka", "スヌーズ", "会議のやつ").text
    assert "読めませんでした" in say(demo, "tanaka", "対応済み", "kpi_entry:1.20261399").text
    assert "1〜30日" in say(demo, "tanaka", "スヌーズ", f"{key} 99日").text
    assert "1〜30日" in say(demo, "tanaka", "スヌーズ", f"{key} そのうち").text
    # 3 days after Wednesday 11/25 is a Saturday: the next business morning
    assert "11/30（月） 09:00まで" in say(demo, "tanaka", "スヌーズ", key).text
