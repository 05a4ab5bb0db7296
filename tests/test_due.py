"""The "what is due" query: one place, authorization built in, every kind of item."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from storage.db import transaction
from storage.due import due_for_agreements, due_for_contact
from storage.models import ActionItem, Agreement, Contact, KpiEntry
from tests.conftest import NOW, TODAY, TOKYO
from tests.support import say


def contact_id(app: Flask, key: str) -> int:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(select(Contact.id).where(Contact.key == key))


def due(app: Flask, key: str, days: int = 30):  # type: ignore[no-untyped-def]
    with app.extensions["renkei"].sessions() as s:
        return due_for_contact(
            s,
            contact_id=contact_id(app, key),
            start=TODAY,
            end=TODAY + timedelta(days=days),
            tz=TOKYO,
        )


def test_a_contact_sees_only_their_agreements(demo: Flask) -> None:
    assert {i.agreement_key for i in due(demo, "tanaka")} == {"minato-acme"}
    assert {i.agreement_key for i in due(demo, "sato")} == {"minato-acme", "sakura-platform"}
    assert {i.agreement_key for i in due(demo, "nakamura")} == {"sakura-hikari"}


def test_every_kind_is_found_with_its_date(demo: Flask) -> None:
    items = due(demo, "takahashi", days=60)
    by_kind = {(i.kind, i.title): i for i in items}
    assert by_kind[("meeting", "協定期間満了に向けた総合評価会議")].on == TODAY + timedelta(days=7)
    assert by_kind[("action_item", "総合評価シートの作成")].on == TODAY + timedelta(days=5)
    assert by_kind[("renewal", "協定の有効期間満了")].on == TODAY + timedelta(days=21)
    kinds = {i.kind for i in items}
    assert kinds == {"meeting", "action_item", "renewal", "kpi_entry"}


def test_missing_kpi_value_is_due_and_disappears_once_entered(demo: Flask) -> None:
    titles = [i.title for i in due(demo, "tanaka") if i.kind == "kpi_entry"]
    assert titles == ["防災訓練参加者数（2026年度 第2四半期）の実績入力"]
    [item] = [i for i in due(demo, "tanaka") if i.kind == "kpi_entry"]
    assert item.overdue and item.on == date(2026, 10, 14)  # 30 Sep + 14 days
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        s.add(
            KpiEntry(kpi_id=item.ref_id, period_start=date(2026, 7, 1), value=130, entered_at=NOW)
        )
    assert [i for i in due(demo, "tanaka") if i.kind == "kpi_entry"] == []


def test_done_action_items_are_not_due_and_overdue_ones_come_first(demo: Flask) -> None:
    items = due(demo, "tanaka")
    overdue = [i for i in items if i.overdue]
    assert items[: len(overdue)] == overdue
    assert [i.title for i in overdue] == [
        "防災訓練参加者数（2026年度 第2四半期）の実績入力",
        "防災訓練の実施報告書の提出",
    ]
    assert [i.on for i in items if not i.overdue] == sorted(i.on for i in items if not i.overdue)
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        s.scalar(
            select(ActionItem).where(ActionItem.title == "防災訓練の実施報告書の提出")
        ).done_at = NOW
    assert "防災訓練の実施報告書の提出" not in [i.title for i in due(demo, "tanaka")]


def test_renewal_notice_deadline_rolls_with_auto_renewal(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        a = s.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        a.ends_on = TODAY - timedelta(days=300)  # renewed once already (12-month terms)
        a.notice_days = 60
    term_end = TODAY - timedelta(days=300)
    term_end = term_end.replace(year=term_end.year + 1)
    [renewal] = [i for i in due(demo, "tanaka", days=400) if i.kind == "renewal"]
    assert renewal.on == term_end - timedelta(days=60)


def test_no_agreements_no_items(demo: Flask) -> None:
    with demo.extensions["renkei"].sessions() as s:
        assert due_for_agreements(s, agreement_ids=[], start=TODAY, end=TODAY, tz=TOKYO) == []


def test_a_meeting_and_a_task_on_the_same_day_sort_without_error(demo: Flask) -> None:
    """Found by the benchmarks: a timed and an untimed item on one day broke the sort."""
    say(demo, "tanaka", "タスク 12/10 会議資料の準備")  # the demo's meeting is 12/10 14:00
    same_day = [i for i in due(demo, "tanaka") if i.on == date(2026, 12, 10)]
    assert [i.kind for i in same_day] == ["action_item", "meeting"]


def test_an_auto_renewed_agreement_keeps_asking_for_kpi_values(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        a = s.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        a.ends_on = date(2026, 3, 31)  # the first term ended; 12-month renewals since
    titles = [i.title for i in due(demo, "tanaka") if i.kind == "kpi_entry"]
    assert titles == ["防災訓練参加者数（2026年度 第2四半期）の実績入力"]
