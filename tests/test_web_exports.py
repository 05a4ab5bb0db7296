"""Downloads: the 推進会議 workbook (opens, has its sheets, headers and native charts) and the
CSVs over the visible agreements (UTF-8 with BOM); the calendar feed and its updates."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime

import openpyxl
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, select

from storage.db import transaction
from storage.models import Activity, Agreement, Kpi, KpiEntry, Meeting
from tests.conftest import TOKYO
from tests.support import say
from tests.web_support import add_secretariat, path_of, signed_in_client


def test_report_xlsx_has_its_sheets_and_charts(demo: Flask) -> None:
    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    client = signed_in_client(demo, "tanaka")
    res = client.get("/agreements/minato-acme/report.xlsx")
    assert res.status_code == 200
    assert res.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in res.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(res.data))
    assert book.sheetnames == ["概要", "KPI", "活動", "会議", "タスク"]
    assert [c.value for c in book["KPI"][1]][:8] == [
        "KPI",
        "期間",
        "期首日",
        "実績",
        "目標",
        "達成率",
        "前年同期",
        "前年同期比",
    ]
    assert book["KPI"].column_dimensions["A"].width > 20
    assert book["活動"]["C2"].value == "防災訓練"
    with transaction(demo.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert a is not None
        entries = session.scalar(
            select(func.count(KpiEntry.id)).join(Kpi).where(Kpi.agreement_id == a.id)
        )
        with_values = session.scalar(
            select(func.count(func.distinct(Kpi.id))).join(KpiEntry).where(Kpi.agreement_id == a.id)
        )
        meetings = session.scalar(
            select(func.count(Meeting.id)).where(Meeting.agreement_id == a.id)
        )
    values = [r for r in book["KPI"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert len(values) == entries
    assert book["KPI"]["D2"].number_format == "#,##0.##"
    assert book["会議"].max_row - 1 == meetings
    # openpyxl does not load charts back: read the package for them.
    names = zipfile.ZipFile(io.BytesIO(res.data)).namelist()
    charts = [n for n in names if re.match(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == with_values
    xml = zipfile.ZipFile(io.BytesIO(res.data)).read(charts[0]).decode()
    assert "<c:lineChart>" in xml


def test_report_of_an_agreement_not_yours_is_404(demo: Flask) -> None:
    client = signed_in_client(demo, "tanaka")
    assert client.get("/agreements/sakura-hikari/report.xlsx").status_code == 404


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_exports_start_with_a_bom_and_hold_only_visible_agreements(demo: Flask) -> None:
    add_secretariat(demo)
    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    say(demo, "takahashi", "活動 11/21 創業セミナー 協定:sakura-hikari")
    client = signed_in_client(demo, "tanaka")
    rows = _csv(client.get("/export/activities.csv").data)
    assert rows[0][:3] == ["協定キー", "協定名", "日付"]
    assert {r[0] for r in rows[1:]} == {"minato-acme"}
    assert any(r[4] == "防災訓練" and r[5] == "参加者45名" for r in rows[1:]), rows
    kpis = _csv(client.get("/export/kpis.csv").data)
    assert kpis[0][:3] == ["協定キー", "協定名", "KPI"]
    with transaction(demo.extensions["renkei"].sessions) as session:
        n = session.scalar(
            select(func.count(KpiEntry.id))
            .join(Kpi)
            .join(Agreement)
            .where(Agreement.key == "minato-acme")
        )
        total = session.scalar(select(func.count(Activity.id)))
    assert len(kpis) - 1 == n
    jimu = _csv(signed_in_client(demo, "jimukyoku").get("/export/activities.csv").data)
    assert {r[0] for r in jimu[1:]} == {"minato-acme"}  # みなと市's agreements, not さくら町's
    assert total is not None and total >= 2  # the other agreement's activity exists, unseen


def test_calendar_feed_follows_a_moved_and_a_cancelled_meeting(demo: Flask) -> None:
    reply = say(demo, "tanaka", "カレンダー")
    assert reply.private
    [url] = re.findall(r"https?://\S+\.ics", reply.text)
    assert say(demo, "tanaka", "カレンダー").text == reply.text  # the same URL every time
    client = demo.test_client()  # calendar apps have no session: the URL is the key

    def events() -> dict[str, dict[str, object]]:
        res = client.get(path_of(url))
        assert res.status_code == 200 and res.mimetype == "text/calendar"
        cal = Calendar.from_ical(res.data)
        return {
            str(e["UID"]): {
                "summary": str(e["SUMMARY"]),
                "start": e.decoded("DTSTART"),
                "sequence": int(e.get("SEQUENCE", 0)),
                "status": str(e.get("STATUS", "")),
            }
            for e in cal.walk("VEVENT")
        }

    before = events()
    with transaction(demo.extensions["renkei"].sessions) as session:
        meeting = session.scalar(
            select(Meeting)
            .join(Agreement)
            .where(Agreement.key == "minato-acme")
            .where(Meeting.title == "第8回 実務者会議")
        )
        assert meeting is not None
        meeting_id = meeting.id
    [uid] = [u for u in before if u.startswith(f"meeting-{meeting_id}@")]
    assert before[uid]["sequence"] == 0 and before[uid]["status"] == "CONFIRMED"
    assert any(
        "タスク期限" in str(e["summary"]) or "KPI入力期限" in str(e["summary"])
        for e in before.values()
    )
    assert not any("sakura-hikari" in u for u in before)  # not tanaka's agreement

    assert "変更しました" in say(demo, "tanaka", f"会議 変更 {meeting_id} 12/11 15:00").text
    moved = events()[uid]
    assert moved["start"] == datetime(2026, 12, 11, 15, 0, tzinfo=TOKYO)
    assert moved["sequence"] == 1

    assert "中止" in say(demo, "tanaka", f"会議 中止 {meeting_id}").text
    cancelled = events()[uid]
    assert cancelled["status"] == "CANCELLED" and cancelled["sequence"] == 2

    assert client.get("/calendar/not-a-real-token.ics").status_code == 404


def test_calendar_page_shows_the_feed_url(demo: Flask) -> None:
    client = signed_in_client(demo, "tanaka")
    html = client.get("/calendar").get_data(as_text=True)
    assert re.search(r'id="feed-url">https?://\S+/calendar/\S+\.ics<', html)
