"""The overview and an agreement's page show what the database holds (through the same facts
as 状況), sorted and filtered as asked."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from bot.web.overview import health_of
from handlers.agreement_facts import gather
from storage.db import transaction
from storage.models import Agreement, ReminderSettings
from tests.conftest import TODAY, TOKYO
from tests.support import Clock, say
from tests.web_support import add_secretariat, signed_in_client


def _row(html: str, key: str) -> str:
    found = re.search(rf'<tr class="health-\w+" data-key="{key}">(.*?)</tr>', html, re.S)
    assert found, f"{key} has a row"
    return found.group(1)


def test_overview_rows_match_the_facts_of_each_agreement(demo: Flask) -> None:
    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    say(demo, "tanaka", "タスク 11/1 協定書案送付")  # already overdue on 11/25
    client = signed_in_client(demo, "tanaka")
    html = client.get("/").get_data(as_text=True)
    with transaction(demo.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert a is not None
        f = gather(session, a, today=TODAY, now_tz=TOKYO)
    row = _row(html, "minato-acme")
    assert "5日前" in row  # 11/20 → 11/25
    assert f"未完了{len(f.open_tasks)}件" in row
    assert f"超過{len(f.overdue_tasks(TODAY))}" in row
    assert f.notice is not None and f"あと{(f.notice - TODAY).days}日" in row
    assert "株式会社アクメ" in row and "防災" in row
    assert 'class="mark good"' in row or 'class="mark watch"' in row


def test_overview_sorts_and_filters(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    everything = re.findall(r'data-key="([^"]+)"', client.get("/").get_data(as_text=True))
    assert len(everything) >= 1
    only = client.get("/?q=アクメ").get_data(as_text=True)
    assert re.findall(r'data-key="([^"]+)"', only) == ["minato-acme"]
    none = client.get("/?q=存在しない協定").get_data(as_text=True)
    assert "表示できる協定がありません" in none
    by_title = re.findall(r'data-key="([^"]+)"', client.get("/?sort=title").get_data(as_text=True))
    assert sorted(by_title) == sorted(everything)
    assert client.get("/?sort=nonsense&health=bogus").status_code == 200  # ignored, not a 500
    headers = client.get("/?q=アクメ").get_data(as_text=True)
    assert 'href="/?sort=health&amp;q=%E3%82%A2%E3%82%AF%E3%83%A1"' in headers  # keeps the filter


def _set_rules(app: Flask, key: str, **rules: int) -> None:
    with transaction(app.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == key))
        assert a is not None
        row = session.scalar(select(ReminderSettings).where(ReminderSettings.agreement_id == a.id))
        if row is None:
            session.add(ReminderSettings(agreement_id=a.id, settings=rules))
        else:
            row.settings = {**row.settings, **rules}


def test_health_marks_a_dormant_agreement(demo: Flask, clock: Clock) -> None:
    assert health_of(59, 60, 0) == "watch"
    assert health_of(60, 60, 0) == "dormant"
    assert health_of(3, 60, 0) == "good"
    assert health_of(3, 60, 1) == "watch"
    # A dormancy period of one day, and three quiet days (the import's values were today's).
    _set_rules(demo, "minato-acme", dormancy_days=1)
    clock.now += timedelta(days=3)
    html = signed_in_client(demo, "tanaka").get("/?health=dormant").get_data(as_text=True)
    assert "形骸化の恐れ" in _row(html, "minato-acme")


def test_agreement_page_shows_kpis_tasks_meetings_and_contacts(demo: Flask) -> None:
    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名 メモ:雨天のため体育館")
    say(demo, "tanaka", "タスク 12/5 協定書案送付")
    client = signed_in_client(demo, "tanaka")
    html = client.get("/agreements/minato-acme").get_data(as_text=True)
    with transaction(demo.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert a is not None
        f = gather(session, a, today=TODAY, now_tz=TOKYO)
        for p in f.progress:
            card = re.search(
                rf'data-kpi="{p.kpi.key}">(.*?)</div>\s*(?=<div class="card kpi"|</div>\s*</section>)',
                html,
                re.S,
            )
            assert card, p.kpi.key
            text = card.group(1)
            assert p.kpi.name in text
            if p.ratio is not None:
                assert f'class="ratio">{round(p.ratio * 100)}%' in text
            if p.yoy is not None:
                assert f'class="yoy">{round(p.yoy * 100)}%' in text
        assert "<svg" in html and "<polyline" in html
        for side in f.sides:
            assert side.organization in html
            if side.primary:
                assert side.primary[0].name in html
    assert "防災訓練" in html and "雨天のため体育館" in html
    assert "協定書案送付" in html and '<span class="state">対応中</span>' in html
    assert "課題・対策" in html and "更新の申し出期限" in html
    assert 'media="print"' in html or "@media print" in client.get(
        "/static/web/style.css"
    ).get_data(as_text=True)


def test_the_review_summary_shows_within_the_review_window(demo: Flask) -> None:
    client = signed_in_client(demo, "tanaka")
    with transaction(demo.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert a is not None
        end = gather(session, a, today=TODAY, now_tz=TOKYO).term_end
    html = client.get("/agreements/minato-acme").get_data(as_text=True)
    inside = (end - TODAY).days <= 180
    assert ('id="review"' in html) == inside
    _set_rules(demo, "minato-acme", review_days=3650)
    html = client.get("/agreements/minato-acme").get_data(as_text=True)
    assert 'id="review"' in html and "総合評価" in html and "目標達成" in html
    assert date(2026, 11, 25) == TODAY
