"""事務局's pages to run agreements without a shell: KPI targets, meetings and tasks (checked by
the agreement file's own schema, written through the change log like chat's writes), invite
codes, and who has linked LINE or Slack."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from bot.web import agreement_history as history
from bot.web.auth import login_required, renkei
from bot.web.pages import today, visible_agreement, web_context
from handlers.changes import record_create, record_update
from storage.agreement_file import ActionItemIn, KpiIn, MeetingIn, place
from storage.identities import create_invite
from storage.models import (
    ActionItem,
    Agreement,
    AgreementContact,
    AgreementParty,
    ChatIdentity,
    Contact,
    Kpi,
    Meeting,
)
from storage.web_access import may_edit

PLATFORM_NAMES = {"line": "LINE", "slack": "Slack"}
FIELD_NAMES = {
    "target": "目標値",
    "target_date": "目標期日",
    "at": "日時",
    "title": "名前",
    "due_on": "期限",
    "kind": "種別",
    "place": "場所",
    "owner": "担当",
}


def _problems(exc: ValidationError) -> str:
    """The schema's complaints in Japanese words a secretariat reads (the field, then why)."""
    out = []
    for e in exc.errors():
        name = str(e["loc"][0]) if e["loc"] else ""
        out.append(f"{FIELD_NAMES.get(name, place(tuple(e['loc'])))}の値が正しくありません")
    return "・".join(dict.fromkeys(out))


def _validated(model: type[BaseModel], data: dict[str, Any]) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        flash(f"保存しませんでした：{_problems(exc)}。", "error")
        return None


def _editable(key: str) -> Agreement:
    agreement = visible_agreement(key)
    if not may_edit(g.db, g.me, agreement.id):
        abort(404)
    return agreement


def _back(agreement: Agreement, anchor: str = "") -> Response:
    return redirect(f"/manage/agreements/{agreement.key}{anchor}")


def _secretariat_only() -> None:
    if not g.me.secretariat:
        abort(404)


def register(web: Blueprint) -> None:
    @web.get("/manage")
    @login_required
    def manage_home() -> str:
        _secretariat_only()
        org = g.me.organization_id
        contacts = list(
            g.db.scalars(
                select(Contact)
                .join(AgreementContact, AgreementContact.contact_id == Contact.id)
                .join(AgreementParty, AgreementParty.agreement_id == AgreementContact.agreement_id)
                .where(AgreementParty.organization_id == org)
                .distinct()
            )
        )
        contacts += [
            c
            for c in g.db.scalars(select(Contact).where(Contact.organization_id == org))
            if c not in contacts
        ]
        linked: dict[int, list[str]] = {}
        for contact_id, platform in g.db.execute(
            select(ChatIdentity.contact_id, ChatIdentity.platform).where(
                ChatIdentity.contact_id.in_([c.id for c in contacts])
            )
        ):
            linked.setdefault(contact_id, []).append(PLATFORM_NAMES.get(platform, platform))
        agreements = list(
            g.db.scalars(
                select(Agreement)
                .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
                .where(AgreementParty.organization_id == org)
                .order_by(Agreement.title)
            )
        )
        return render_template(
            "manage.html",
            me=g.me,
            contacts=sorted(contacts, key=lambda c: (c.organization_id != org, c.key)),
            linked=linked,
            agreements=agreements,
        )

    @web.post("/manage/contacts/<key>/invite")
    @login_required
    def issue_invite(key: str) -> Response:
        _secretariat_only()
        contact = g.db.scalar(select(Contact).where(Contact.key == key))
        if contact is None or not _related(contact):
            abort(404)
        invite = create_invite(g.db, contact, now=renkei().clock())
        flash(
            f"{contact.name}さんの登録コード：{invite.code}（{invite.expires_at.astimezone(renkei().settings.tz):%Y/%m/%d %H:%M}まで有効）"
            "。ボットに「登録 コード」と送ってもらってください。",
            "ok",
        )
        return redirect("/manage#contacts")

    @web.get("/manage/agreements/<key>")
    @login_required
    def manage_agreement(key: str) -> str:
        agreement = _editable(key)
        kpis = list(
            g.db.scalars(select(Kpi).where(Kpi.agreement_id == agreement.id).order_by(Kpi.id))
        )
        owners = list(
            g.db.scalars(
                select(Contact)
                .join(AgreementContact, AgreementContact.contact_id == Contact.id)
                .where(AgreementContact.agreement_id == agreement.id)
                .distinct()
            )
        )
        return render_template(
            "manage_agreement.html",
            me=g.me,
            a=agreement,
            kpis=kpis,
            meetings=[
                m for m in history.meetings(g.db, agreement) if m.starts_at >= renkei().clock()
            ],
            tasks=[(t, o) for t, o in history.tasks(g.db, agreement) if t.done_at is None],
            owners=owners,
            today=today(),
            tz=renkei().settings.tz,
        )

    @web.post("/manage/agreements/<key>/kpis/<kpi_key>")
    @login_required
    def edit_kpi(key: str, kpi_key: str) -> Response:
        agreement = _editable(key)
        kpi = g.db.scalar(select(Kpi).where(Kpi.agreement_id == agreement.id, Kpi.key == kpi_key))
        if kpi is None:
            abort(404)
        checked = _validated(
            KpiIn,
            {
                "key": kpi.key,
                "name": kpi.name,
                "period": kpi.period,
                "target": request.form.get("target", "").replace(",", ""),
                "target_date": request.form.get("target_date") or None,
            },
        )
        if isinstance(checked, KpiIn):
            changes = {
                k: v
                for k, v in {"target": checked.target, "target_date": checked.target_date}.items()
                if getattr(kpi, k) != v
            }
            if changes:
                record_update(web_context(g.me), kpi, changes, f"KPI {kpi.name} の目標変更")
                flash(f"{kpi.name}の目標を保存しました。", "ok")
        return _back(agreement, "#kpis")

    @web.post("/manage/agreements/<key>/meetings")
    @login_required
    def add_meeting(key: str) -> Response:
        agreement = _editable(key)
        form = request.form
        checked = _validated(
            MeetingIn,
            {
                "kind": form.get("kind", ""),
                "title": form.get("title", ""),
                "at": f"{form.get('date', '')}T{form.get('time') or '10:00'}",
                "place": form.get("place") or None,
            },
        )
        if isinstance(checked, MeetingIn):
            tz = renkei().settings.tz
            starts_at = checked.at if checked.at.tzinfo else checked.at.replace(tzinfo=tz)
            row = Meeting(
                agreement_id=agreement.id,
                kind=checked.kind,
                title=checked.title,
                starts_at=starts_at,
                place=checked.place,
                cancelled=False,
                import_key=None,
            )
            g.db.add(row)
            record_create(web_context(g.me), row, f"会議 {checked.title}")
            flash(f"会議「{checked.title}」を登録しました。", "ok")
        return _back(agreement, "#meetings")

    @web.post("/manage/agreements/<key>/meetings/<int:meeting_id>")
    @login_required
    def edit_meeting(key: str, meeting_id: int) -> Response:
        agreement = _editable(key)
        row = g.db.get(Meeting, meeting_id)
        if row is None or row.agreement_id != agreement.id:
            abort(404)
        ctx = web_context(g.me)
        if request.form.get("action") == "cancel":
            if not row.cancelled:
                record_update(ctx, row, {"cancelled": True}, f"会議 {row.title} の中止")
                flash(f"会議「{row.title}」を中止にしました。", "ok")
            return _back(agreement, "#meetings")
        local = row.starts_at.astimezone(ctx.tz)
        checked = _validated(
            MeetingIn,
            {
                "kind": row.kind,
                "title": row.title,
                "at": f"{request.form.get('date') or f'{local:%Y-%m-%d}'}"
                f"T{request.form.get('time') or f'{local:%H:%M}'}",
            },
        )
        if isinstance(checked, MeetingIn):
            new = checked.at if checked.at.tzinfo else checked.at.replace(tzinfo=ctx.tz)
            if new != row.starts_at:
                record_update(ctx, row, {"starts_at": new}, f"会議 {row.title} の日時変更")
                flash(f"会議「{row.title}」の日時を変更しました。", "ok")
        return _back(agreement, "#meetings")

    @web.post("/manage/agreements/<key>/tasks")
    @login_required
    def add_task(key: str) -> Response:
        agreement = _editable(key)
        owner_key = request.form.get("owner") or None
        checked = _validated(
            ActionItemIn,
            {
                "title": request.form.get("title", ""),
                "due_on": request.form.get("due_on", ""),
                "owner": owner_key,
            },
        )
        if isinstance(checked, ActionItemIn):
            owner = (
                g.db.scalar(
                    select(Contact)
                    .join(AgreementContact, AgreementContact.contact_id == Contact.id)
                    .where(AgreementContact.agreement_id == agreement.id, Contact.key == owner_key)
                )
                if owner_key
                else None
            )
            if owner_key and owner is None:
                flash("保存しませんでした：担当はこの協定の担当者から選んでください。", "error")
                return _back(agreement, "#tasks")
            row = ActionItem(
                agreement_id=agreement.id,
                title=checked.title,
                owner_id=owner.id if owner else None,
                due_on=checked.due_on,
                done_at=None,
                import_key=None,
            )
            g.db.add(row)
            record_create(web_context(g.me), row, f"タスク {checked.title}")
            flash(f"タスク「{checked.title}」を登録しました。", "ok")
        return _back(agreement, "#tasks")

    @web.post("/manage/agreements/<key>/tasks/<int:task_id>/done")
    @login_required
    def task_done(key: str, task_id: int) -> Response:
        agreement = _editable(key)
        row = g.db.get(ActionItem, task_id)
        if row is None or row.agreement_id != agreement.id:
            abort(404)
        if row.done_at is None:
            ctx = web_context(g.me)
            record_update(ctx, row, {"done_at": ctx.now}, f"タスク {row.title} 完了")
            flash(f"タスク「{row.title}」を完了にしました。", "ok")
        return _back(agreement, "#tasks")


def _related(contact: Contact) -> bool:
    """A contact of the secretariat's organization, or of one of its agreements."""
    if contact.organization_id == g.me.organization_id:
        return True
    shared = (
        select(func.count())
        .select_from(AgreementContact)
        .join(AgreementParty, AgreementParty.agreement_id == AgreementContact.agreement_id)
        .where(
            AgreementContact.contact_id == contact.id,
            AgreementParty.organization_id == g.me.organization_id,
        )
    )
    return bool(g.db.scalar(shared))
