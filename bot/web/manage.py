"""事務局's pages to run agreements without a shell: KPI targets, meetings and tasks (checked by
the agreement file's own schema, written through the change log like chat's writes), invite
codes, and who has linked LINE or Slack."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from bot.web import agreement_history as history
from bot.web.auth import login_required, renkei
from bot.web.pages import row_of, today, visible_agreement, web_context
from handlers.changes import record_create, record_update
from storage import plan_mark
from storage.agreement_file import ActionItemIn, AgreementIn, ContactIn, KpiIn, MeetingIn, place
from storage.identities import create_invite
from storage.limits import MAX_ID
from storage.models import (
    ActionItem,
    Agreement,
    AgreementContact,
    AgreementParty,
    ChatIdentity,
    Contact,
    Kpi,
    Meeting,
    Organization,
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
    "fields": "分野",
    "ends_on": "終了日",
    "auto_renew": "自動更新",
    "contacts": "担当者",
    "name": "氏名",
    "email": "メール",
    "organization": "所属",
}
ROLE_NAMES = {"primary": "正", "secondary": "副"}


def _problems(exc: ValidationError) -> str:
    """The schema's complaints in Japanese words a secretariat reads (the field, then why)."""
    out = []
    for e in exc.errors():
        if "ends_on is before starts_on" in e["msg"]:
            out.append("終了日が開始日より前です")
            continue
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
            organizations=_partner_organizations(),
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
        parties = list(agreement.parties)
        roles = {
            (ac.organization_id, ac.role): ac.contact_id
            for ac in g.db.scalars(
                select(AgreementContact).where(AgreementContact.agreement_id == agreement.id)
            )
        }
        return render_template(
            "manage_agreement.html",
            parties=parties,
            members=_members(parties),
            roles=roles,
            role_names=ROLE_NAMES,
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

    @web.post(f"/manage/agreements/<key>/meetings/<int(max={MAX_ID}):meeting_id>")
    @login_required
    def edit_meeting(key: str, meeting_id: int) -> Response:
        agreement = _editable(key)
        row = row_of(Meeting, meeting_id, agreement)
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

    @web.post(f"/manage/agreements/<key>/tasks/<int(max={MAX_ID}):task_id>/done")
    @login_required
    def task_done(key: str, task_id: int) -> Response:
        agreement = _editable(key)
        row = row_of(ActionItem, task_id, agreement)
        if row.done_at is None:
            ctx = web_context(g.me)
            record_update(ctx, row, {"done_at": ctx.now}, f"タスク {row.title} 完了")
            flash(f"タスク「{row.title}」を完了にしました。", "ok")
        return _back(agreement, "#tasks")

    @web.post("/manage/agreements/<key>")
    @login_required
    def edit_agreement(key: str) -> Response:
        """Title, fields, term and renewal, and each side's 正・副: checked as a whole by the
        agreement file's schema, then each change written through the change log."""
        agreement = _editable(key)
        form = request.form
        parties = list(agreement.parties)
        members = _members(parties)
        roles: dict[str, dict[str, str | None]] = {}
        for org in parties:
            roles[org.key] = {r: form.get(f"{org.key}.{r}") or None for r in ROLE_NAMES}
        for org in parties:
            for role, who in roles[org.key].items():
                if who is not None and who not in members.get(org.id, {}):
                    flash(
                        f"保存しませんでした：{org.name}の{ROLE_NAMES[role]}担当は{org.name}の担当者から選んでください。",
                        "error",
                    )
                    return _back(agreement)
        term = form.get("renew_term_months") or ""
        checked = _validated(
            AgreementIn,
            {
                "key": agreement.key,
                "title": form.get("title", ""),
                "parties": [o.key for o in parties],
                "fields": [f for f in re.split(r"[、,\s]+", form.get("fields", "")) if f],
                "signed_on": agreement.signed_on,
                "starts_on": agreement.starts_on,
                "ends_on": form.get("ends_on", ""),
                "auto_renew": {"term_months": term, "notice_days": form.get("notice_days") or 0}
                if term
                else None,
                "contacts": {k: v for k, v in roles.items() if v["primary"]},
            },
        )
        if not isinstance(checked, AgreementIn):
            return _back(agreement)
        ctx = web_context(g.me)
        changes = {
            k: v
            for k, v in {
                "title": checked.title,
                "fields": checked.fields,
                "ends_on": checked.ends_on,
                "renew_term_months": checked.auto_renew.term_months if checked.auto_renew else None,
                "notice_days": checked.auto_renew.notice_days if checked.auto_renew else None,
            }.items()
            if getattr(agreement, k) != v
        }
        if changes:
            record_update(ctx, agreement, changes, f"協定 {checked.title} の変更")
            # A new term or renewal rule moves schedules the planner may have taken as done.
            plan_mark.forget(g.db)
        current = {
            (ac.organization_id, ac.role): ac
            for ac in g.db.scalars(
                select(AgreementContact).where(AgreementContact.agreement_id == agreement.id)
            )
        }
        for org in parties:
            for role, who in roles[org.key].items():
                row = current.get((org.id, role))
                contact_id = members[org.id][who].id if who else None
                label = f"{org.name}の{ROLE_NAMES[role]}担当"
                if row is None and contact_id is not None:
                    row = AgreementContact(
                        agreement_id=agreement.id,
                        organization_id=org.id,
                        contact_id=contact_id,
                        role=role,
                    )
                    g.db.add(row)
                    record_create(ctx, row, f"{label}を設定")
                elif row is not None and contact_id is None and role == "secondary":
                    g.db.delete(row)  # a side may have no 副; its 正 is required (above)
                elif row is not None and contact_id is not None and row.contact_id != contact_id:
                    record_update(ctx, row, {"contact_id": contact_id}, f"{label}を変更")
        flash("協定を保存しました。", "ok")
        return _back(agreement)

    @web.post("/manage/contacts")
    @login_required
    def add_contact() -> Response:
        _secretariat_only()
        form = request.form
        orgs = {o.key: o for o in _partner_organizations()}
        checked = _validated(
            ContactIn,
            {
                "key": form.get("key", ""),
                "name": form.get("name", ""),
                "organization": form.get("organization", ""),
                "email": form.get("email") or None,
            },
        )
        if isinstance(checked, ContactIn):
            if checked.organization not in orgs:
                flash("保存しませんでした：所属は協定の当事者から選んでください。", "error")
            elif g.db.scalar(select(Contact.id).where(Contact.key == checked.key)) is not None:
                flash(f"保存しませんでした：キー「{checked.key}」はすでに使われています。", "error")
            else:
                g.db.add(
                    Contact(
                        key=checked.key,
                        name=checked.name,
                        organization_id=orgs[checked.organization].id,
                        email=checked.email,
                        active=True,
                        secretariat=False,
                    )
                )
                g.db.flush()
                flash(
                    f"{checked.name}さんを登録しました。登録コードを発行して渡してください。", "ok"
                )
        return redirect("/manage#contacts")


def _members(parties: list[Organization]) -> dict[int, dict[str, Contact]]:
    """Active contacts of each party, by key: who may hold a role on that side."""
    out: dict[int, dict[str, Contact]] = {o.id: {} for o in parties}
    for c in g.db.scalars(
        select(Contact).where(
            Contact.organization_id.in_([o.id for o in parties]), Contact.active.is_(True)
        )
    ):
        out[c.organization_id][c.key] = c
    return out


def _partner_organizations() -> list[Organization]:
    """The secretariat's organization and every party of its agreements."""
    mine = select(AgreementParty.agreement_id).where(
        AgreementParty.organization_id == g.me.organization_id
    )
    return list(
        g.db.scalars(
            select(Organization)
            .join(AgreementParty, AgreementParty.organization_id == Organization.id)
            .where(AgreementParty.agreement_id.in_(mine))
            .distinct()
            .order_by(Organization.id)
        )
    )


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
