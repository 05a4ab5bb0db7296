"""The 推進会議 paper as an Excel workbook: 概要, KPI, 活動, 会議, タスク, with native line charts
of each KPI (people paste them into PowerPoint). XlsxWriter writes it in one pass."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy.orm import Session

from bot.web import agreement_history as history
from handlers.agreement_facts import gather
from handlers.commands.log import describe_counts
from storage.fiscal import fiscal_year, period_label
from storage.kpi_progress import ratio
from storage.models import Agreement

KINDS = {"steering": "推進会議", "working": "実務者会議"}


def report_xlsx(session: Session, agreement: Agreement, *, today: date, tz: ZoneInfo) -> bytes:
    facts = gather(session, agreement, today=today, now_tz=tz)
    kpis = [p.kpi for p in facts.progress]
    series = history.kpi_series(session, kpis)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "remove_timezone": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    title = book.add_format({"bold": True, "font_size": 14})
    day = book.add_format({"num_format": "yyyy/mm/dd"})
    moment = book.add_format({"num_format": "yyyy/mm/dd hh:mm"})
    number = book.add_format({"num_format": "#,##0.##"})
    percent = book.add_format({"num_format": "0%"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})

    # 概要
    s = book.add_worksheet("概要")
    s.set_column(0, 0, 22)
    s.set_column(1, 1, 60)
    s.write(0, 0, agreement.title, title)
    rows: list[tuple[str, object, object]] = [
        ("相手方", "・".join(side.organization for side in facts.sides), None),
        ("分野", "・".join(agreement.fields or []), None),
        ("締結日", agreement.signed_on, day),
        ("開始日", agreement.starts_on, day),
        ("現在の期間の満了日", facts.term_end, day),
        ("更新の申し出期限", facts.notice, day),
        ("作成日", today, day),
    ]
    for side in facts.sides:
        for label, who in (("正", side.primary), ("副", side.secondary)):
            rows.append((f"担当（{side.organization}・{label}）", who[0].name if who else "", None))
    for p in facts.progress:
        rows.append((f"KPI {p.kpi.name} 達成率", p.ratio, percent))
    for i, (label, value, fmt) in enumerate(rows, start=2):
        s.write(i, 0, label, head)
        if value is None or value == "":
            s.write_blank(i, 1, None)
        elif fmt is not None:
            s.write(i, 1, value, fmt)
        else:
            s.write(i, 1, value)

    # KPI: one block of columns per KPI, a line chart beside the table
    k = book.add_worksheet("KPI")
    headers = ["KPI", "期間", "期首日", "実績", "目標", "達成率", "前年同期", "前年同期比"]
    k.write_row(0, 0, headers, head)
    k.set_column(0, 0, 24)
    k.set_column(1, 1, 20)
    k.set_column(2, 2, 12)
    k.set_column(3, 7, 11)
    row = 1
    chart_row = 1
    for kpi in kpis:
        points = series[kpi.id]
        first = row
        running, fy = Decimal(0), None
        for pt in points:
            if fiscal_year(pt.start) != fy:  # 達成率 of a sum KPI: this fiscal year so far
                running, fy = Decimal(0), fiscal_year(pt.start)
            running += pt.value
            k.write(row, 0, kpi.name)
            k.write(row, 1, period_label(pt.start, kpi.period))
            k.write_datetime(row, 2, pt.start, day)
            k.write_number(row, 3, float(pt.value), number)
            k.write_number(row, 4, float(kpi.target), number)
            achieved = ratio(kpi, running if kpi.aggregation == "sum" else pt.value)
            if achieved is not None:
                k.write_number(row, 5, achieved, percent)
            if pt.last_year is not None:
                k.write_number(row, 6, float(pt.last_year), number)
            if pt.yoy is not None:
                k.write_number(row, 7, pt.yoy, percent)
            row += 1
        if points:
            chart = book.add_chart({"type": "line"})
            chart.add_series(
                {
                    "name": f"{kpi.name}（{kpi.unit}）" if kpi.unit else kpi.name,
                    "categories": ["KPI", first, 1, row - 1, 1],
                    "values": ["KPI", first, 3, row - 1, 3],
                    "marker": {"type": "circle", "size": 4},
                }
            )
            if any(pt.last_year is not None for pt in points):
                chart.add_series(
                    {
                        "name": "前年同期",
                        "categories": ["KPI", first, 1, row - 1, 1],
                        "values": ["KPI", first, 6, row - 1, 6],
                        "line": {"dash_type": "dash"},
                    }
                )
            chart.set_title({"name": kpi.name})
            chart.set_legend({"position": "bottom"})
            chart.set_size({"width": 560, "height": 280})
            k.insert_chart(chart_row, 9, chart)
            chart_row += 15
        row += 1  # a blank line between KPIs
    k.freeze_panes(1, 0)

    # 活動
    a = book.add_worksheet("活動")
    a.write_row(0, 0, ["日付", "分野", "内容", "人数など", "メモ", "成功事例"], head)
    for col, width in enumerate((12, 10, 40, 24, 40, 10)):
        a.set_column(col, col, width)
    for i, x in enumerate(history.activities(session, agreement, limit=None), start=1):
        a.write_datetime(i, 0, x.occurred_on, day)
        a.write(i, 1, x.field or "")
        a.write(i, 2, x.title, wrap)
        a.write(i, 3, describe_counts(x.counts or {}).strip())
        a.write(i, 4, x.note or "", wrap)
        a.write(i, 5, "○" if x.success else "")
    a.freeze_panes(1, 0)
    a.autofilter(0, 0, 0, 5)

    # 会議
    m = book.add_worksheet("会議")
    m.write_row(0, 0, ["日時", "種別", "会議", "場所", "状態"], head)
    for col, width in enumerate((18, 12, 40, 24, 8)):
        m.set_column(col, col, width)
    for i, meeting in enumerate(history.meetings(session, agreement), start=1):
        m.write_datetime(i, 0, meeting.starts_at.astimezone(tz).replace(tzinfo=None), moment)
        m.write(i, 1, KINDS.get(meeting.kind, "その他"))
        m.write(i, 2, meeting.title)
        m.write(i, 3, meeting.place or "")
        m.write(i, 4, "中止" if meeting.cancelled else "")
    m.freeze_panes(1, 0)

    # タスク（課題・対策）
    t = book.add_worksheet("タスク")
    t.write_row(0, 0, ["状態", "課題・対策", "担当", "期限", "完了日"], head)
    for col, width in enumerate((10, 44, 16, 12, 12)):
        t.set_column(col, col, width)
    for i, (task, owner) in enumerate(history.tasks(session, agreement), start=1):
        state = "完了" if task.done_at else ("期限超過" if task.due_on < today else "対応中")
        t.write(i, 0, state)
        t.write(i, 1, task.title, wrap)
        t.write(i, 2, owner or "")
        t.write_datetime(i, 3, task.due_on, day)
        if task.done_at:
            t.write_datetime(i, 4, task.done_at.astimezone(tz).date(), day)
    t.freeze_panes(1, 0)

    book.close()
    return out.getvalue()
