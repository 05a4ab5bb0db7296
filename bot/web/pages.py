"""The overview of every visible agreement, and one agreement's page (the 推進会議 handout)."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask import Blueprint, abort, g, redirect, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from bot.web import agreement_history as history
from bot.web.auth import login_required, renkei
from bot.web.overview import OverviewRow, overview_rows
from bot.web.svg import line_chart
from handlers.agreement_facts import gather
from handlers.changes import record_update
from handlers.context import Context
from handlers.messages import Incoming
from storage.limits import MAX_ID
from storage.models import ActionItem, Activity, Agreement, Contact, Meeting
from storage.web_access import may_edit, may_see, visible_agreements

_Row = TypeVar("_Row", Activity, ActionItem, Meeting)

HEALTH_LABELS = {"good": "良好", "watch": "注意", "dormant": "形骸化の恐れ"}
SORTS: dict[str, Any] = {
    "deadline": lambda r, today: r.days_to_deadline(today),
    "activity": lambda r, today: -(r.days_since_activity(today) or 10**6),
    "achievement": lambda r, today: r.achievement if r.achievement is not None else -1,
    "overdue": lambda r, today: -r.overdue_tasks,
    "health": lambda r, today: {"dormant": 0, "watch": 1, "good": 2}[r.health],
    "title": lambda r, today: r.agreement.title,
}


def today() -> date:
    r = renkei()
    return r.clock().astimezone(r.settings.tz).date()


def web_context(me: Contact) -> Context:
    """Who writes from the web, for the change log that chat's 取消 and the planner read."""
    r = renkei()
    return Context(g.db, Incoming("web", me.key, ""), me, r.clock(), r.settings.tz)


def visible_agreement(key: str) -> Agreement:
    """The agreement, or 404 when it does not exist or is not the signed-in person's."""
    agreement = g.db.scalar(select(Agreement).where(Agreement.key == key))
    if agreement is None or not may_see(g.db, g.me, agreement.id):
        abort(404)
    return agreement


def row_of(model: type[_Row], row_id: int, agreement: Agreement) -> _Row:
    """A meeting, task or activity of `agreement`, or 404: an id from another agreement is as
    unknown as one that does not exist."""
    row = g.db.get(model, row_id)
    if row is None or row.agreement_id != agreement.id:
        abort(404)
    return row


def filtered(rows: list[OverviewRow], args: Any, day: date) -> list[OverviewRow]:
    q = (args.get("q") or "").strip()
    if q:
        rows = [
            r
            for r in rows
            if q in r.agreement.title
            or any(q in p for p in r.partners)
            or any(q in f for f in r.agreement.fields or [])
        ]
    health = args.get("health")
    if health in HEALTH_LABELS:
        rows = [r for r in rows if r.health == health]
    sort = args.get("sort") if args.get("sort") in SORTS else "deadline"
    return sorted(rows, key=lambda r: SORTS[sort](r, day))


def register(web: Blueprint) -> None:
    @web.errorhandler(404)
    def not_found(_exc: Exception) -> tuple[str, int]:
        return (
            render_template(
                "message.html",
                title="ページが見つかりません",
                message="このページはないか、閲覧できる協定ではありません。",
            ),
            404,
        )

    @web.get("/")
    @login_required
    def overview() -> str:
        day = today()
        ids = g.db.scalars(visible_agreements(g.me)).all()
        rows = overview_rows(g.db, ids, today=day, tz=renkei().settings.tz)
        shown = filtered(rows, request.args, day)
        return render_template(
            "overview.html",
            me=g.me,
            rows=shown,
            total=len(rows),
            today=day,
            health_labels=HEALTH_LABELS,
            sort=request.args.get("sort", "deadline"),
            q=request.args.get("q", ""),
            health=request.args.get("health", ""),
        )

    @web.get("/agreements/<key>")
    @login_required
    def agreement_page(key: str) -> str:
        agreement = visible_agreement(key)
        r = renkei()
        day, tz = today(), r.settings.tz
        facts = gather(g.db, agreement, today=day, now_tz=tz)
        series = history.kpi_series(g.db, [p.kpi for p in facts.progress])
        kpis = [
            {
                "p": p,
                "plan": history.plan_ratio(p),
                "chart": line_chart(
                    [(pt.start, pt.value) for pt in series[p.kpi.id][-60:]],
                    p.kpi.target if p.kpi.aggregation == "last" else None,
                    p.kpi.unit,
                ),
            }
            for p in facts.progress
        ]
        acts = history.activities(g.db, agreement)
        return render_template(
            "agreement.html",
            me=g.me,
            a=agreement,
            f=facts,
            kpis=kpis,
            activities=acts,
            logged_by=history.names(g.db, {x.logged_by_id for x in acts if x.logged_by_id}),
            meetings=history.meetings(g.db, agreement),
            tasks=history.tasks(g.db, agreement),
            review=history.review(
                g.db, agreement, facts.progress, term_end=facts.term_end, today=day, tz=tz
            ),
            today=day,
            editable=may_edit(g.db, g.me, agreement.id),
            now=r.clock(),
        )

    @web.post(f"/agreements/<key>/activities/<int(max={MAX_ID}):activity_id>/success")
    @login_required
    def mark_success(key: str, activity_id: int) -> Response:
        agreement = visible_agreement(key)
        activity = row_of(Activity, activity_id, agreement)
        wanted = request.form.get("success") == "1"
        if activity.success != wanted:
            label = "成功事例に設定" if wanted else "成功事例を解除"
            record_update(
                web_context(g.me), activity, {"success": wanted}, f"{label}：{activity.title}"
            )
        return redirect(f"/agreements/{agreement.key}#activity-{activity.id}")
