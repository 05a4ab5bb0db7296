"""引継ぎ / handover: the summary for a successor; 担当変更 / reassign: pass one's role on."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from sqlalchemy import select

from handlers.agreements import pick_agreement
from handlers.changes import record_create, record_delete, record_update
from handlers.context import Context
from handlers.dates import find_when
from handlers.handover_doc import as_text, handover_sections
from handlers.messages import Button, Reply
from handlers.questions import ask
from handlers.text import fmt_date, odd_day_note
from storage.handovers import apply_due_handovers, open_tasks_of, transfer
from storage.identities import create_invite
from storage.models import (
    ActionItem,
    Agreement,
    AgreementContact,
    ChatIdentity,
    Contact,
    Handover,
)

EXAMPLE = "例：「担当変更 山田 太郎 yamada@example.jp」「担当変更 @鈴木」"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# What happens to the leaving person's open tasks: 移す (all), 残す (none) or their numbers.
TASKS = re.compile(r"(?:タスク|tasks?)[:：]\s*(移す|残す|all|none|[0-9]+(?:[,、，][0-9]+)*)", re.I)
# 「4月1日から」「2027/4/1から」: the day the change takes effect.
FROM_DAY = re.compile(r"(\S+?)\s*(?:から|より|付け?で?|〜)(?=\s|$)")


def handover(ctx: Context, args: str) -> Reply:
    picked = pick_agreement(ctx, args, command="引継ぎ", question="どの協定の引継ぎ資料ですか？")
    if isinstance(picked, Reply):
        return picked
    agreement, _ = picked
    apply_due_handovers(ctx.session, today=ctx.today, now=ctx.now)
    sections = handover_sections(ctx.session, agreement, today=ctx.today, tz=ctx.tz)
    return Reply(
        as_text(f"引継ぎ資料：{agreement.title}（{fmt_date(ctx.today, year=True)}時点）", sections)
    )


def reassign(ctx: Context, args: str) -> Reply:
    """A primary hands their role, and as they choose their open tasks, to someone of their own
    organization — now, or from a later day (「4月1日から」); history stays put."""
    apply_due_handovers(ctx.session, today=ctx.today, now=ctx.now)
    picked = pick_agreement(
        ctx, args, command="担当変更", question="どの協定の担当を変更しますか？"
    )
    if isinstance(picked, Reply):
        return picked
    agreement, args = picked
    mine = ctx.session.scalar(
        select(AgreementContact).where(
            AgreementContact.agreement_id == agreement.id,
            AgreementContact.contact_id == ctx.contact.id,
            AgreementContact.role == "primary",
        )
    )
    if mine is None:
        return Reply("担当変更は、その協定の正担当の方だけができます。")
    retry = f"担当変更 {args} 協定:{agreement.key}"
    email_match = EMAIL.search(args)
    email = email_match.group(0) if email_match else None
    rest = EMAIL.sub("", args)
    tasks_choice = None
    if m := TASKS.search(rest):
        tasks_choice, rest = m.group(1), rest[: m.start()] + rest[m.end() :]
    effective = None
    if m := FROM_DAY.search(rest):
        found = find_when(m.group(1), today=ctx.today) if _datelike(m.group(1)) else None
        if found is not None:
            effective, rest = found[0].start, rest[: m.start()] + rest[m.end() :]
    name = " ".join(rest.split())
    if not name:
        return Reply(f"新しい担当者の名前を入れてください。{EXAMPLE}", private=True)
    if effective is not None and effective < ctx.today:
        return Reply(
            f"{fmt_date(effective, year=True)}は過ぎています。今日以降の日付を入れてください。"
        )
    successor = _successor(ctx, name, mine.organization_id, retry)
    if isinstance(successor, Reply):
        return successor
    if successor is not None and successor.id == ctx.contact.id:
        return Reply("ご自身がすでに正担当です。")
    leaving = open_tasks_of(ctx.session, agreement.id, ctx.contact.id)
    if leaving and tasks_choice is None:  # private: the buttons repeat any e-mail address
        return replace(_ask_tasks(ctx, retry, name, leaving), private=True)
    task_ids = _chosen(tasks_choice, leaving)
    summary = f"担当変更 {ctx.contact.name} → {successor.name if successor else name}"
    logged = [False]  # the first write names the command; the rest join it (one 取消)

    def joined() -> bool:
        first, logged[0] = not logged[0], True
        return not first

    if successor is None:  # a new person: a contact of this side, to be invited
        successor = Contact(
            key=_new_key(ctx),
            name=name,
            organization_id=mine.organization_id,
            email=email,
            active=True,
        )
        ctx.session.add(successor)
        record_create(ctx, successor, summary, joined=joined())
    moved = [t for t in leaving if t.id in task_ids]
    if effective is not None and effective > ctx.today:
        return _schedule(ctx, agreement, mine, successor, effective, moved, summary, joined)
    transfer(
        ctx.session,
        agreement_id=agreement.id,
        organization_id=mine.organization_id,
        from_id=ctx.contact.id,
        to_id=successor.id,
        task_ids=task_ids,
        change=lambda row, values: record_update(ctx, row, values, summary, joined=joined()),
        remove=lambda row: record_delete(ctx, row, summary, joined=joined()),
    )
    tasks_line = _tasks_line(moved, leaving, successor)
    return Reply(
        f"{agreement.title}の正担当を {successor.name}さん（{successor.key}）に変更しました。"
        f"これまでの記録はそのまま引き継がれます。\n{tasks_line}"
        + _invite(ctx, successor, summary, joined())
        + "\n間違えたときは10分以内なら「取消」で元に戻せます。",
        private=True,
    )


def _schedule(
    ctx: Context,
    agreement: Agreement,
    mine: AgreementContact,
    successor: Contact,
    effective: date,
    moved: list[ActionItem],
    summary: str,
    joined: Callable[[], bool],
) -> Reply:
    row = Handover(
        agreement_id=agreement.id,
        organization_id=mine.organization_id,
        from_contact_id=ctx.contact.id,
        to_contact_id=successor.id,
        effective_on=effective,
        task_ids=[t.id for t in moved],
        created_by_id=ctx.contact.id,
        created_at=ctx.now,
        applied_at=None,
        cancelled_at=None,
    )
    ctx.session.add(row)
    record_create(ctx, row, summary, joined=joined())
    day = fmt_date(row.effective_on, today=ctx.today)
    note = odd_day_note(row.effective_on)
    moving = f"未完了タスク{len(moved)}件もその日に移ります。" if moved else ""
    return Reply(
        f"{day}から、{agreement.title}の正担当が {successor.name}さん（{successor.key}）に"
        f"変わるよう予約しました。{moving}それまでは{ctx.contact.name}さんが正担当です"
        f"（「予定」に表示されます）。"
        + (f"\n{note}" if note else "")
        + _invite(ctx, successor, summary, joined())
        + "\n間違えたときは10分以内なら「取消」で元に戻せます。",
        private=True,
    )


def _invite(ctx: Context, successor: Contact, summary: str, joined: bool) -> str:
    """A one-time code for a successor who has no chat account yet ("" when they have one)."""
    if ctx.session.scalar(select(ChatIdentity.id).where(ChatIdentity.contact_id == successor.id)):
        return ""
    code = create_invite(ctx.session, successor, now=ctx.now)
    record_create(ctx, code, summary, joined=joined)
    expires = code.expires_at.astimezone(ctx.tz)
    return (
        f"\n{successor.name}さんの登録コード：{code.code}（{expires:%m/%d %H:%M}まで）\n"
        f"LINE か Slack でボットに「登録 {code.code}」と送ってもらってください。"
        "「引継ぎ」で引継ぎ資料も出せます。"
    )


def _tasks_line(moved: list[ActionItem], leaving: list[ActionItem], successor: Contact) -> str:
    if not leaving:
        return ""
    kept = len(leaving) - len(moved)
    parts = []
    if moved:
        numbers = "、".join(f"No.{t.id}" for t in moved)
        parts.append(f"未完了タスク{len(moved)}件（{numbers}）を{successor.name}さんに移しました。")
    if kept:
        parts.append(f"{kept}件は担当をそのままにしました。")
    return "".join(parts)


def _ask_tasks(ctx: Context, retry: str, name: str, leaving: list[ActionItem]) -> Reply:
    listed = "、".join(f"No.{t.id}「{t.title}」" for t in leaving[:5])
    more = f" ほか{len(leaving) - 5}件" if len(leaving) > 5 else ""
    options = [
        Button("後任に全部移す", f"{retry} タスク:移す"),
        Button("移さない", f"{retry} タスク:残す"),
        *(
            Button(f"No.{t.id}だけ移す"[:20], f"{retry} タスク:{t.id}")
            for t in (leaving[:10] if len(leaving) > 1 else [])
        ),
    ]
    return ask(
        ctx,
        f"{ctx.contact.name}さんが担当の未完了タスクが{len(leaving)}件あります：{listed}{more}。\n"
        f"{name}さんに移しますか？",
        options,
        command="担当変更",
    )


def _chosen(choice: str | None, leaving: list[ActionItem]) -> list[int]:
    if choice is None or choice in ("残す", "none"):
        return []
    if choice.lower() in ("移す", "all"):
        return [t.id for t in leaving]
    wanted = {int(n) for n in re.split(r"[,、，]", choice) if n}
    return [t.id for t in leaving if t.id in wanted]


def _datelike(text: str) -> bool:
    return any(ch.isdigit() for ch in text) or any(
        w in text for w in ("来月", "来週", "年度", "月")
    )


def _successor(ctx: Context, name: str, organization_id: int, retry: str) -> Contact | Reply | None:
    """An existing contact of this side named by key or name (「木村 さとみ」「@kimura」), None
    for a new person, or a question when several fit."""
    wanted = name.lstrip("@＠")
    people = ctx.session.scalars(
        select(Contact).where(Contact.organization_id == organization_id, Contact.active.is_(True))
    ).all()
    flat = wanted.replace(" ", "").replace("　", "")
    matches = (
        [c for c in people if c.key == wanted]
        or [c for c in people if c.name.replace(" ", "").replace("　", "") == flat]
        or [c for c in people if c.name.replace(" ", "").replace("　", "").startswith(flat)]
    )
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        options = [
            Button(f"{c.name}（{c.key}）"[:20], retry.replace(name, f"@{c.key}", 1))
            for c in matches
        ]
        question = f"「{name}」に当たる方が{len(matches)}人います。どなたですか？"
        return replace(ask(ctx, question, options, command="担当変更"), private=True)
    if name[0] in "@＠":
        return Reply(f"「{name}」に当たる同じ団体の担当者が見つかりません。{EXAMPLE}")
    return None


def _new_key(ctx: Context) -> str:
    base = f"{ctx.contact.key}-successor"
    taken = set(ctx.session.scalars(select(Contact.key).where(Contact.key.like(f"{base}%"))))
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
