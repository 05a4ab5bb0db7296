"""事務局 creates an agreement on the web: the form becomes an agreement file (the same dict a
YAML file parses into), checked by its schema and written by the importer, then change-logged.
The secretariat's own organization is always a party."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from bot.web.auth import login_required, renkei
from bot.web.manage import FIELD_NAMES, _members, _partner_organizations, _secretariat_only
from bot.web.pages import today, web_context
from handlers.changes import record_create
from storage.agreement_file import AgreementFile, AgreementFileError
from storage.importer import import_agreements
from storage.models import Agreement, Contact, Organization

NEW = "_new"  # the form's name for a new partner organization: not a valid key, so no clash
KINDS = {"municipality": "自治体", "company": "企業", "other": "その他"}
NAMES = FIELD_NAMES | {
    "key": "キー",
    "title": "協定名",
    "signed_on": "締結日",
    "starts_on": "開始日",
    "parties": "相手方",
    "meeting_cadence": "会議の頻度",
    "term_months": "自動更新の期間",
    "notice_days": "申し出期限",
    "steering": "推進会議の頻度",
    "working": "実務者会議の頻度",
}


class FormProblem(ValueError):
    """Input the secretariat must fix; the message is shown as it is."""


def suggest_key(title: str, parties: list[str], taken: set[str]) -> str:
    """A URL-safe key: the title's latin words if it has any, else the parties' keys; made
    unique with -2, -3 …"""
    words = re.findall(r"[a-z0-9]+", title.lower())
    base = "-".join(words)[:60].strip("-") or "-".join(parties)[:60] or "agreement"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def _file_problems(exc: ValidationError) -> str:
    out = []
    for e in exc.errors():
        loc = [p for p in e["loc"] if not isinstance(p, int)]
        if "ends_on is before starts_on" in e["msg"]:
            out.append("終了日が開始日より前です")
            continue
        who = {"organizations": "新しい相手方の", "contacts": "新しい担当者の"}.get(str(loc[0]), "")
        name = str(loc[-1]) if loc else ""
        if loc and loc[0] == "agreements" and len(loc) > 2 and loc[1] in NAMES:
            name = str(loc[1])  # auto_renew.term_months → 自動更新
        label = "名前" if (loc[:1], name) == (["organizations"], "name") else NAMES.get(name, name)
        out.append(f"{who}{label}の値が正しくありません")
    return "・".join(dict.fromkeys(out))


def _side_contact(
    form: MultiDict[str, str],
    side: str,
    org_name: str,
    members: dict[str, Contact],
    new_contacts: list[dict[str, Any]],
    org_key: str,
) -> str:
    """The side's 正: a member chosen in the list, or a new contact typed in beside it."""
    chosen = form.get(f"{side}.primary") or ""
    if chosen:
        if chosen not in members:
            raise FormProblem(f"{org_name}の正担当は{org_name}の担当者から選んでください")
        return chosen
    key, name = form.get(f"{side}.new_key", "").strip(), form.get(f"{side}.new_name", "").strip()
    if not key or not name:
        raise FormProblem(f"{org_name}の正担当を選ぶか、新しい担当者のキーと氏名を入力してください")
    new_contacts.append(
        {
            "key": key,
            "name": name,
            "organization": org_key,
            "email": form.get(f"{side}.new_email", "").strip() or None,
        }
    )
    return key


def _build(form: MultiDict[str, str]) -> AgreementFile:
    """The agreement file the form describes, checked by the file's schema."""
    mine = g.me.organization
    partners = {o.key: o for o in _partner_organizations() if o.id != mine.id}
    chosen = [k for k in form.getlist("party") if k]
    if any(k not in partners for k in chosen):
        raise FormProblem("相手方は一覧から選んでください")
    new_org = None
    if form.get(f"{NEW}.name", "").strip():
        new_org = {
            "key": form.get(f"{NEW}.key", "").strip(),
            "name": form.get(f"{NEW}.name", "").strip(),
            "kind": form.get(f"{NEW}.kind", ""),
        }
    if not chosen and new_org is None:
        raise FormProblem("相手方を選ぶか、新しい相手方を入力してください")
    members = _members([mine, *(partners[k] for k in chosen)])
    new_contacts: list[dict[str, Any]] = []
    sides = {
        mine.key: _side_contact(form, mine.key, mine.name, members[mine.id], new_contacts, mine.key)
    }
    for k in chosen:
        o = partners[k]
        sides[k] = _side_contact(form, k, o.name, members[o.id], new_contacts, k)
    parties = [mine.key, *chosen]
    if new_org is not None:
        parties.append(new_org["key"])
        sides[new_org["key"]] = _side_contact(
            form, NEW, new_org["name"] or "新しい相手方", {}, new_contacts, new_org["key"]
        )
    title = form.get("title", "").strip()
    taken = set(g.db.scalars(select(Agreement.key)))
    key = form.get("key", "").strip() or suggest_key(title, parties, taken)
    if key in taken:
        raise FormProblem(f"キー「{key}」はすでに使われています。別のキーにしてください")
    for what, model, keys in (
        ("相手方", Organization, [new_org["key"]] if new_org else []),
        ("担当者", Contact, [c["key"] for c in new_contacts]),
    ):
        for k in keys:
            if k and g.db.scalar(select(model.id).where(model.key == k)) is not None:
                raise FormProblem(f"{what}のキー「{k}」はすでに使われています")
    if len({c["key"] for c in new_contacts}) != len(new_contacts):
        raise FormProblem("新しい担当者のキーが重なっています")
    term = form.get("renew_term_months", "").strip()
    steering, working = form.get("steering", "").strip(), form.get("working", "").strip()
    data = {
        "organizations": [new_org] if new_org else [],
        "contacts": new_contacts,
        "agreements": [
            {
                "key": key,
                "title": title,
                "parties": parties,
                "fields": [f for f in re.split(r"[、,\s]+", form.get("fields", "")) if f],
                "signed_on": form.get("signed_on") or None,
                "starts_on": form.get("starts_on", ""),
                "ends_on": form.get("ends_on", ""),
                "auto_renew": {
                    "term_months": term,
                    "notice_days": form.get("notice_days", "").strip() or 0,
                }
                if term
                else None,
                "contacts": {side: {"primary": who} for side, who in sides.items()},
                "meeting_cadence": {"steering": steering or None, "working": working or None}
                if steering or working
                else None,
            }
        ],
    }
    try:
        return AgreementFile.model_validate(data)
    except ValidationError as exc:
        raise FormProblem(_file_problems(exc)) from None


def _create(data: AgreementFile) -> Agreement:
    """Write through the importer and log the agreement's creation, so 取消 takes it back with
    its parties and roles. New people and a new partner stay registered, as 担当者を登録 does:
    an invite code may already point at them."""
    r = renkei()
    import_agreements(g.db, data, tz=r.settings.tz, now=r.clock())
    a = data.agreements[0]
    agreement = g.db.scalar(select(Agreement).where(Agreement.key == a.key))
    assert agreement is not None
    record_create(web_context(g.me), agreement, f"協定 {a.title} の作成")
    return agreement


def register(web: Blueprint) -> None:
    @web.get("/manage/new-agreement")
    @login_required
    def new_agreement_form() -> str:
        _secretariat_only()
        return _form(MultiDict())

    @web.post("/manage/new-agreement")
    @login_required
    def create_agreement() -> Response | tuple[str, int]:
        _secretariat_only()
        try:
            data = _build(request.form)
            agreement = _create(data)
        except FormProblem as exc:
            return _form(request.form, f"作成しませんでした：{exc}。"), 422
        except AgreementFileError as exc:  # a rule only the importer knows
            return _form(request.form, f"作成しませんでした：{'、'.join(exc.problems)}"), 422
        flash(f"協定「{agreement.title}」を作成しました（キー：{agreement.key}）。", "ok")
        return redirect(f"/agreements/{agreement.key}")


def _form(values: MultiDict[str, str], error: str | None = None) -> str:
    mine = g.me.organization
    partners = [o for o in _partner_organizations() if o.id != mine.id]
    members = _members([mine, *partners])
    return render_template(
        "manage_new_agreement.html",
        me=g.me,
        mine=mine,
        partners=partners,
        members=members,
        kinds=KINDS,
        new=NEW,
        v=values,
        error=error,
        today=today(),
    )
