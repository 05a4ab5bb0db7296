"""引継ぎ / handover: the summary for a successor; 担当変更 / reassign: pass one's role on."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.agreements import pick_agreement
from handlers.context import Context
from handlers.handover_doc import as_text, handover_sections
from handlers.messages import Reply
from handlers.text import fmt_date
from storage.identities import create_invite
from storage.models import AgreementContact, Contact

EXAMPLE = "例：「担当変更 山田 太郎 yamada@example.jp」「担当変更 @鈴木」"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def handover(ctx: Context, args: str) -> Reply:
    picked = pick_agreement(ctx, args, command="引継ぎ", question="どの協定の引継ぎ資料ですか？")
    if isinstance(picked, Reply):
        return picked
    agreement, _ = picked
    sections = handover_sections(ctx.session, agreement, today=ctx.today, tz=ctx.tz)
    return Reply(
        as_text(f"引継ぎ資料：{agreement.title}（{fmt_date(ctx.today, year=True)}時点）", sections)
    )


def reassign(ctx: Context, args: str) -> Reply:
    """A primary hands their role to someone of their own organization; history stays put."""
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
    email_match = EMAIL.search(args)
    email = email_match.group(0) if email_match else None
    name = " ".join(EMAIL.sub("", args).split())
    if not name:
        return Reply(f"新しい担当者の名前を入れてください。{EXAMPLE}")
    successor = (
        _existing(ctx, name.lstrip("@＠"), mine.organization_id) if name[0] in "@＠" else None
    )
    if name[0] in "@＠" and successor is None:
        return Reply(f"「{name}」に当たる同じ団体の担当者が見つかりません。{EXAMPLE}")
    if successor is None:
        successor = Contact(
            key=_new_key(ctx),
            name=name,
            organization_id=mine.organization_id,
            email=email,
            active=True,
        )
        ctx.session.add(successor)
        ctx.session.flush()
    if successor.id == ctx.contact.id:
        return Reply("ご自身がすでに正担当です。")
    # The successor may have been this side's secondary: they move up, the slot is freed.
    for row in ctx.session.scalars(
        select(AgreementContact).where(
            AgreementContact.agreement_id == agreement.id,
            AgreementContact.contact_id == successor.id,
            AgreementContact.organization_id == mine.organization_id,
        )
    ):
        ctx.session.delete(row)
    ctx.session.flush()
    mine.contact_id = successor.id
    code = create_invite(ctx.session, successor, now=ctx.now)
    expires = code.expires_at.astimezone(ctx.tz)
    return Reply(
        f"{agreement.title}の正担当を {successor.name}さん に変更しました。これまでの記録はそのまま引き継がれます。\n"
        f"{successor.name}さんの登録コード：{code.code}（{expires:%m/%d %H:%M}まで）\n"
        f"LINE か Slack でボットに「登録 {code.code}」と送ってもらってください。「引継ぎ」で引継ぎ資料も出せます。",
        private=True,
    )


def _existing(ctx: Context, name: str, organization_id: int) -> Contact | None:
    people = ctx.session.scalars(
        select(Contact).where(Contact.organization_id == organization_id, Contact.active.is_(True))
    ).all()
    matches = [c for c in people if c.key == name] or [
        c for c in people if c.name.replace(" ", "").startswith(name)
    ]
    return matches[0] if len(matches) == 1 else None


def _new_key(ctx: Context) -> str:
    base = f"{ctx.contact.key}-successor"
    taken = set(ctx.session.scalars(select(Contact.key).where(Contact.key.like(f"{base}%"))))
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
