"""担当変更 that carries the work, through `respond`, checked in the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from bot.scheduler import plan
from storage.db import transaction
from storage.models import (
    ActionItem,
    AgreementContact,
    Contact,
    Handover,
    InviteCode,
    Organization,
)
from tests.conftest import TOKYO
from tests.support import say


def roles(app: Flask) -> set[tuple[str, str]]:
    """minato-acme's (role, contact key) on the みなと市 side."""
    with app.extensions["renkei"].sessions() as s:
        return set(
            s.execute(
                select(AgreementContact.role, Contact.key)
                .join(Contact, Contact.id == AgreementContact.contact_id)
                .join(Organization, Organization.id == AgreementContact.organization_id)
                .where(AgreementContact.agreement_id == 1, Organization.key == "minato-city")
            ).all()
        )


def task_owner(app: Flask, number: int) -> str | None:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(
            select(Contact.key)
            .join(ActionItem, ActionItem.owner_id == Contact.id)
            .where(ActionItem.id == number)
        )


def contacts_named(app: Flask, name: str) -> list[Contact]:
    with app.extensions["renkei"].sessions() as s:
        return list(s.scalars(select(Contact).where(Contact.name == name)))


def add_kimura(app: Flask) -> None:
    """木村 さとみ: already a contact of みなと市, on no agreement yet."""
    with transaction(app.extensions["renkei"].sessions) as s:
        city = s.scalar(select(Organization).where(Organization.key == "minato-city"))
        s.add(Contact(key="kimura", name="木村 さとみ", organization_id=city.id, active=True))


def test_an_existing_contact_is_reused_and_her_key_shown(demo: Flask) -> None:
    add_kimura(demo)
    asked = say(demo, "tanaka", "担当変更 木村 さとみ")
    assert "未完了タスクが1件あります：No.2「防災訓練の実施報告書の提出」" in asked.text
    assert [b.label for b in asked.buttons] == ["後任に全部移す", "移さない"]
    done = say(demo, "tanaka", "1")
    assert "正担当を 木村 さとみさん（kimura）に変更しました" in done.text
    assert "未完了タスク1件（No.2）を木村 さとみさんに移しました" in done.text
    assert done.private  # it carries her one-time code
    assert len(contacts_named(demo, "木村 さとみ")) == 1  # no twin
    assert roles(demo) == {("primary", "kimura"), ("secondary", "suzuki")}
    assert task_owner(demo, 2) == "kimura"
    [code] = rows_of(demo, InviteCode)
    assert code.code in done.text


def rows_of(app: Flask, model: type) -> list:
    with app.extensions["renkei"].sessions() as s:
        return list(s.scalars(select(model)))


def test_the_secondary_moves_up_and_tasks_can_stay(demo: Flask) -> None:
    reply = say(demo, "tanaka", "担当変更 鈴木 タスク:残す")
    assert "正担当を 鈴木 一郎さん（suzuki）に変更しました" in reply.text
    assert "1件は担当をそのままにしました" in reply.text
    assert roles(demo) == {("primary", "suzuki")}
    assert task_owner(demo, 2) == "tanaka"
    # every view agrees with the reminders: she is no longer on it, so nobody owns the task
    doc = say(demo, "suzuki", "引継ぎ").text
    assert "防災訓練の実施報告書の提出（担当未定（元：田中 花子））" in doc
    assert "正担当：鈴木 一郎" in doc


def test_tasks_chosen_by_number(demo: Flask) -> None:
    say(demo, "tanaka", "タスク 12/20 予算要求書の作成")
    asked = say(demo, "tanaka", "担当変更 @suzuki")
    assert "No.2だけ移す" in [b.label for b in asked.buttons]
    say(demo, "tanaka", "No.2だけ移す")
    assert task_owner(demo, 2) == "suzuki"
    [extra] = [t for t in rows_of(demo, ActionItem) if t.title == "予算要求書の作成"]
    assert task_owner(demo, extra.id) == "tanaka"


def test_取消_takes_the_whole_handover_back(demo: Flask) -> None:
    say(demo, "tanaka", "担当変更 山田 太郎 yamada@city.minato.example.jp タスク:移す")
    assert roles(demo) == {("primary", "tanaka-successor-1"), ("secondary", "suzuki")}
    reply = say(demo, "tanaka", "取消")
    assert "取り消しました：担当変更 田中 花子 → 山田 太郎" in reply.text
    assert roles(demo) == {("primary", "tanaka"), ("secondary", "suzuki")}
    assert task_owner(demo, 2) == "tanaka"
    assert contacts_named(demo, "山田 太郎") == [] and rows_of(demo, InviteCode) == []
    # the secondary who moved up comes back as the secondary too
    say(demo, "tanaka", "担当変更 鈴木 一郎 タスク:移す")
    assert roles(demo) == {("primary", "suzuki")}
    say(demo, "tanaka", "取消")
    assert roles(demo) == {("primary", "tanaka"), ("secondary", "suzuki")}


def test_a_handover_from_april_is_scheduled_seen_by_both_and_applied_on_its_day(
    demo: Flask,
) -> None:
    reply = say(demo, "tanaka", "担当変更 鈴木 一郎 4月1日から タスク:移す")
    assert (
        "2027/4/1（木）から、みなと市と株式会社アクメとの包括連携協定の正担当が "
        "鈴木 一郎さん（suzuki）に変わるよう予約しました" in reply.text
    )
    [handover] = rows_of(demo, Handover)
    assert (handover.effective_on, handover.task_ids) == (date(2027, 4, 1), [2])
    assert roles(demo) == {("primary", "tanaka"), ("secondary", "suzuki")}  # not yet
    assert task_owner(demo, 2) == "tanaka"
    assert "担当交代：正担当 田中 花子 → 鈴木 一郎" in say(demo, "tanaka", "予定").as_text()
    assert "担当交代：正担当 田中 花子 → 鈴木 一郎" in say(demo, "suzuki", "予定").as_text()
    card = dict(say(demo, "tanaka", "状況").cards[0].rows)
    assert card["担当交代の予定"] == "2027/4/1（木）から 正担当 田中 花子 → 鈴木 一郎"
    assert "担当交代の予定：2027/4/1（木）から" in say(demo, "tanaka", "引継ぎ").text
    # the scheduler's tick on the day puts it into effect
    plan(demo.extensions["renkei"].sessions, now=datetime(2027, 3, 31, 9, tzinfo=TOKYO), tz=TOKYO)
    assert roles(demo) == {("primary", "tanaka"), ("secondary", "suzuki")}
    plan(demo.extensions["renkei"].sessions, now=datetime(2027, 4, 1, 9, tzinfo=TOKYO), tz=TOKYO)
    assert roles(demo) == {("primary", "suzuki")}
    assert task_owner(demo, 2) == "suzuki"
    [handover] = rows_of(demo, Handover)
    assert handover.applied_at is not None


def test_a_scheduled_handover_is_taken_back_by_取消(demo: Flask) -> None:
    say(demo, "tanaka", "担当変更 鈴木 一郎 4月1日から タスク:残す")
    assert len(rows_of(demo, Handover)) == 1
    say(demo, "tanaka", "取消")
    assert rows_of(demo, Handover) == []
    assert "担当交代" not in say(demo, "tanaka", "予定").as_text()


def test_a_past_day_or_no_name_changes_nothing(demo: Flask) -> None:
    demo.extensions["renkei"].clock.now += timedelta(minutes=1)
    assert "過ぎています" in say(demo, "tanaka", "担当変更 鈴木 一郎 2026/4/1から").text
    assert "名前を入れてください" in say(demo, "tanaka", "担当変更 4月1日から").text
    assert roles(demo) == {("primary", "tanaka"), ("secondary", "suzuki")}
    assert rows_of(demo, Handover) == []
