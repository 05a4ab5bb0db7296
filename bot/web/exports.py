"""Downloads: the 推進会議 workbook of one agreement, and CSVs over the visible agreements
(UTF-8 with a BOM, so Excel in Japan opens them without garbling)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from urllib.parse import quote

from flask import Blueprint, Response, g
from sqlalchemy import select

from bot.web.auth import login_required, renkei
from bot.web.pages import today, visible_agreement
from bot.web.report_xlsx import report_xlsx
from handlers.commands.log import describe_counts
from handlers.text import fmt_number
from storage.fiscal import period_label
from storage.models import Activity, Agreement, Kpi, KpiEntry
from storage.web_access import visible_agreements

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(body: bytes, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    # RFC 6266: an ASCII fallback and the Japanese name for browsers that read filename*.
    response.headers["Content-Disposition"] = (
        f'attachment; filename="report.{filename.rsplit(".", 1)[-1]}"; '
        f"filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _csv(rows: Iterable[Iterable[object]]) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def register(web: Blueprint) -> None:
    @web.get("/agreements/<key>/report.xlsx")
    @login_required
    def report(key: str) -> Response:
        agreement = visible_agreement(key)
        body = report_xlsx(g.db, agreement, today=today(), tz=renkei().settings.tz)
        return _attachment(body, f"推進会議資料_{agreement.key}_{today():%Y%m%d}.xlsx", XLSX)

    @web.get("/export/activities.csv")
    @login_required
    def activities_csv() -> Response:
        ids = visible_agreements(g.me)
        rows = g.db.execute(
            select(Agreement.key, Agreement.title, Activity)
            .join(Activity, Activity.agreement_id == Agreement.id)
            .where(Agreement.id.in_(ids))
            .order_by(Agreement.key, Activity.occurred_on, Activity.id)
        )
        header = ["協定キー", "協定名", "日付", "分野", "内容", "人数など", "メモ", "成功事例"]
        body = _csv(
            [
                header,
                *(
                    [
                        key,
                        title,
                        a.occurred_on.isoformat(),
                        a.field or "",
                        a.title,
                        describe_counts(a.counts or {}).strip(),
                        a.note or "",
                        "○" if a.success else "",
                    ]
                    for key, title, a in rows
                ),
            ]
        )
        return _attachment(body, f"活動_{today():%Y%m%d}.csv", "text/csv; charset=utf-8")

    @web.get("/export/kpis.csv")
    @login_required
    def kpis_csv() -> Response:
        ids = visible_agreements(g.me)
        rows = g.db.execute(
            select(Agreement.key, Agreement.title, Kpi, KpiEntry.period_start, KpiEntry.value)
            .join(Kpi, Kpi.agreement_id == Agreement.id)
            .join(KpiEntry, KpiEntry.kpi_id == Kpi.id)
            .where(Agreement.id.in_(ids))
            .order_by(Agreement.key, Kpi.id, KpiEntry.period_start)
        )
        header = ["協定キー", "協定名", "KPI", "単位", "期間", "期首日", "実績", "目標"]
        body = _csv(
            [
                header,
                *(
                    [
                        key,
                        title,
                        kpi.name,
                        kpi.unit,
                        period_label(start, kpi.period),
                        start.isoformat(),
                        fmt_number(value),
                        fmt_number(kpi.target),
                    ]
                    for key, title, kpi, start, value in rows
                ),
            ]
        )
        return _attachment(body, f"KPI_{today():%Y%m%d}.csv", "text/csv; charset=utf-8")
