"""タスク / task: 「タスク 12/5 協定書案送付 @佐藤」, 「タスク」(list); 完了 / done: 「完了 3」."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.agreements import AGREEMENT_TOKEN, NOT_YOURS, named_agreement, pick_agreement
from handlers.changes import record_create, record_update
from handlers.context import Context
from handlers.messages import Button, Reply
from handlers.questions import ask
from handlers.text import fmt_date, short_title
from handlers.when import find_date
from storage.due import agreements_of
from storage.models import ActionItem, Agreement, AgreementContact, Contact

EXAMPLE = "例：「タスク 12/5 協定書案送付 @佐藤」"
LIST_WORDS = {"一覧", "list", "ls"}
OWNER = re.compile(r"[@＠](\S+)")


def task(ctx: Context, args: str) -> Reply:
    head, _, rest = args.partition(" ")
    if not AGREEMENT_TOKEN.sub("", args).strip():  # 「タスク」 or 「タスク 協定:xxx」: the list
        return _list(ctx, args)
    if head.lower() in LIST_WORDS:
        return _list(ctx, rest)
    if head in ("完了", "done"):
        return done(ctx, rest)
    return _add(ctx, args)


def _add(ctx: Context, args: str) -> Reply:
    picked = pick_agreement(ctx, args, command="タスク", question="どの協定のタスクですか？")
    if isinstance(picked, Reply):
        return picked
    agreement, args = picked
    owner_name = None
    if m := OWNER.search(args):
        owner_name, args = m.group(1), " ".join((args[: m.start()] + args[m.end() :]).split())
    suffix = f" @{owner_name}" if owner_name else ""
    found = find_date(ctx, args + suffix, retry=f"タスク 協定:{agreement.key}", command="task")
    if isinstance(found, Reply):
        return found
    if found is None:
        options = [
            Button(w, f"タスク {w} {args}{suffix} 協定:{agreement.key}")
            for w in ("今週金曜", "来週金曜", "月末")
        ]
        return ask(ctx, f"期限はいつですか？ {EXAMPLE}", options, command="task")
    when, title = found
    title = " ".join(title.replace(suffix.strip(), "").split()) if suffix else title
    if not title:
        return Reply(f"タスクの内容を入れてください。{EXAMPLE}")
    owner = ctx.contact
    if owner_name:
        matches = _owners(ctx, agreement, owner_name)
        if len(matches) != 1:
            options = [
                Button(
                    c.name[:20], f"タスク {when.end:%Y/%m/%d} {title} @{c.key} 協定:{agreement.key}"
                )
                for c in _owners(ctx, agreement, "")
            ]
            return ask(
                ctx,
                f"「@{owner_name}」に当たる担当者が{'複数' if matches else '見つかりません'}。誰の担当ですか？",
                options,
                command="task",
            )
        owner = matches[0]
    row = ActionItem(
        agreement_id=agreement.id,
        title=title,
        owner_id=owner.id,
        due_on=when.end,
        done_at=None,
        import_key=None,
    )
    ctx.session.add(row)
    record_create(ctx, row, f"タスク {title}")
    return Reply(
        f"タスクを登録しました（No.{row.id}）\n期限 {fmt_date(when.end)} {title}（担当：{owner.name}）\n"
        f"［{short_title(agreement.title)}］\n終わったら「完了 {row.id}」と送ってください。"
    )


def _owners(ctx: Context, agreement: Agreement, name: str) -> list[Contact]:
    """Contacts of the agreement whose key is `name` or whose name starts with it (「佐藤」)."""
    people = ctx.session.scalars(
        select(Contact)
        .join(AgreementContact, AgreementContact.contact_id == Contact.id)
        .where(AgreementContact.agreement_id == agreement.id)
        .distinct()
        .order_by(Contact.id)
    ).all()
    if not name:
        return list(people)
    by_key = [c for c in people if c.key == name]
    return by_key or [
        c for c in people if c.name.replace(" ", "").startswith(name.replace(" ", ""))
    ]


def _list(ctx: Context, args: str) -> Reply:
    agreements, _ = named_agreement(ctx, args)
    if agreements is None:
        return Reply(NOT_YOURS)
    rows = ctx.session.execute(
        select(ActionItem, Agreement.title, Contact.name)
        .join(Agreement, Agreement.id == ActionItem.agreement_id)
        .outerjoin(Contact, Contact.id == ActionItem.owner_id)
        .where(
            ActionItem.agreement_id.in_([a.id for a in agreements]), ActionItem.done_at.is_(None)
        )
        .order_by(ActionItem.due_on, ActionItem.id)
        .limit(30)
    ).all()
    if not rows:
        return Reply(f"未完了のタスクはありません。{EXAMPLE}")
    items = tuple(
        f"{'⚠期限超過 ' if t.due_on < ctx.today else ''}No.{t.id} 期限 {fmt_date(t.due_on)} {t.title}"
        f"（{who or '担当未定'}）［{short_title(title)}］"
        for t, title, who in rows
    )
    return Reply("未完了のタスク（終わったら「完了 No.」）", items=items)


def done(ctx: Context, args: str) -> Reply:
    number = args.strip().removeprefix("No.").removeprefix("no.").strip()
    if not number.isdigit():
        return Reply(
            "完了したタスクの番号を送ってください。例：「完了 3」（番号は「タスク」で確かめられます）"
        )
    row = ctx.session.scalar(
        select(ActionItem).where(
            ActionItem.id == int(number), ActionItem.agreement_id.in_(agreements_of(ctx.contact.id))
        )
    )
    if row is None:
        return Reply("その番号のタスクが見つかりません。「タスク」で一覧と番号を確かめてください。")
    if row.done_at is not None:
        return Reply(f"No.{row.id}「{row.title}」は既に完了しています。")
    record_update(ctx, row, {"done_at": ctx.now}, f"タスク {row.title} 完了")
    return Reply(f"お疲れさまでした。No.{row.id}「{row.title}」を完了にしました。")
