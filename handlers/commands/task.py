"""タスク / task: 「タスク 12/5 協定書案送付 @佐藤」, 「タスク」(list), 「タスク 変更 2 期限 12/19」
(also 担当 / 件名, and by title or date instead of the number); 完了 / done: 「完了 3」."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.agreements import AGREEMENT_TOKEN, NOT_YOURS, named_agreement, pick_agreement
from handlers.changes import record_create, record_update
from handlers.context import Context
from handlers.item_refs import (
    CHANGE_TAIL,
    COMMAND_WORD,
    NUMBER,
    ask_which,
    has_command_word,
    is_number,
    split_field,
    tasks_for,
)
from handlers.messages import Button, Reply
from handlers.questions import ask
from handlers.text import fmt_date, odd_day_note, short_title
from handlers.when import find_date
from storage.models import ActionItem, Agreement, AgreementContact, Contact

EXAMPLE = "例：「タスク 12/5 協定書案送付 @佐藤」"
LIST_WORDS = {"一覧", "list", "ls"}
EDIT_WORDS = {"変更", "修正", "edit", "change"}
DONE_WORDS = {"完了", "done", "済み", "終了"}
OWNER = re.compile(r"[@＠](\S+)")
FIELDS = {
    "期限": "due",
    "締切": "due",
    "締め切り": "due",
    "〆切": "due",
    "due": "due",
    "担当": "owner",
    "担当者": "owner",
    "owner": "owner",
    "件名": "title",
    "タイトル": "title",
    "内容": "title",
    "title": "title",
}
FIELD_JA = {"due": "期限", "owner": "担当", "title": "件名"}
EDIT_EXAMPLE = (
    "例：「タスク 変更 2 期限 12/19」「タスク 変更 2 担当 佐藤」「タスク 変更 2 件名 報告書の提出」"
)


_DANGLING = re.compile(r"^(?:by|due|until|before|on)\s+|\s+(?:by|due|until|before|on)$", re.I)


def task(ctx: Context, args: str) -> Reply:
    head, _, rest = args.partition(" ")
    if not AGREEMENT_TOKEN.sub("", args).strip():  # 「タスク」 or 「タスク 協定:xxx」: the list
        return _list(ctx, args)
    if head.lower() in LIST_WORDS:
        return _list(ctx, rest)
    if head.lower() in DONE_WORDS:
        return done(ctx, rest)
    if head.lower() in EDIT_WORDS:
        return _edit(ctx, rest)
    words = args.split()
    # 「タスク 2 期限変更 12/19」「タスク 報告書 期限を2/19に変更」: an edit written naturally
    if any(COMMAND_WORD.match(w) and w.lower() not in DONE_WORDS for w in words) or (
        CHANGE_TAIL.search(args) and split_field(args, FIELDS)[0]
    ):
        return _edit(ctx, args)
    if len(words) >= 2 and words[-1].lower() in DONE_WORDS:  # 「タスク 2 完了」
        return done(ctx, " ".join(words[:-1]))
    if len(words) >= 3 and NUMBER.fullmatch(words[0]) and words[1].lower() in FIELDS:
        return _edit(ctx, args)  # 「タスク 1 担当 伊藤」: task No.1's owner, not a new task
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
    title = _DANGLING.sub("", title).strip()  # 「send proposal by 12/20」: the date's own word
    if not title:
        return Reply(f"タスクの内容を入れてください。{EXAMPLE}")
    if has_command_word(title):
        return Reply(
            f"「{title}」はタスクの件名として登録しませんでした（番号や「変更」などの言葉が入っています）。\n"
            f"登録済みのタスクを直すときは{EDIT_EXAMPLE.removeprefix('例：')}のように送ってください。"
        )
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
    note = odd_day_note(when.end)
    return Reply(
        f"タスクを登録しました（No.{row.id}）\n期限 {fmt_date(when.end, today=ctx.today)} {title}"
        f"（担当：{owner.name}）\n{note + chr(10) if note else ''}"
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
    agreements, _ = named_agreement(ctx, args, by_name=True)
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
        f"{'⚠期限超過 ' if t.due_on < ctx.today else ''}No.{t.id} 期限 "
        f"{fmt_date(t.due_on, today=ctx.today)} {t.title}"
        f"（{who or '担当未定'}）［{short_title(title)}］"
        for t, title, who in rows
    )
    return Reply("未完了のタスク（終わったら「完了 No.」）", items=items)


def done(ctx: Context, args: str) -> Reply:
    ref = args.strip()
    if not ref:
        return Reply(
            "完了したタスクの番号を送ってください。例：「完了 3」（番号は「タスク」で確かめられます）"
        )
    matches = tasks_for(ctx, ref)
    if not matches:
        what = "その番号の" if is_number(ref) else f"「{ref}」に当たる未完了の"
        return Reply(f"{what}タスクが見つかりません。「タスク」で一覧と番号を確かめてください。")
    if len(matches) > 1:
        return ask_which(
            ctx,
            "タスク",
            ref,
            [(t.id, t.title) for t in matches],
            lambda n: f"完了 {n}",
            command="done",
        )
    row = matches[0]
    if row.done_at is not None:
        return Reply(f"No.{row.id}「{row.title}」は既に完了しています。")
    record_update(ctx, row, {"done_at": ctx.now}, f"タスク {row.title} 完了")
    return Reply(f"お疲れさまでした。No.{row.id}「{row.title}」を完了にしました。")


def _edit(ctx: Context, args: str) -> Reply:
    """Change one task's due date, owner or title; the task named by number, title or date."""
    field, ref, value = split_field(args, FIELDS)
    if field is None:  # no field word: an @name is the owner, a date the due date
        if m := OWNER.search(ref):
            field, value, ref = "owner", m.group(1), ref[: m.start()].strip()
        else:
            tokens = ref.split()
            if tokens and is_number(tokens[0]) and len(tokens) > 1:
                field, ref, value = "due", tokens[0], " ".join(tokens[1:])
            else:
                return Reply(
                    f"何を変更しますか？ 期限・担当・件名のどれかを書いてください。\n{EDIT_EXAMPLE}"
                )
    if not ref and value.split() and is_number(value.split()[0]):  # 「期限変更 2 12/19」
        ref, _, value = value.partition(" ")
    ref = ref.strip().removesuffix("の").strip()
    matches = tasks_for(ctx, ref)
    if not matches:
        what = (
            "その番号の" if is_number(ref) else f"「{ref}」に当たる未完了の" if ref else "未完了の"
        )
        return Reply(f"{what}タスクが見つかりません。「タスク」で一覧と番号を確かめてください。")
    if len(matches) > 1:
        return ask_which(
            ctx,
            "タスク",
            ref or "変更する",
            [(t.id, t.title) for t in matches],
            lambda n: f"タスク 変更 {n} {FIELD_JA[field]} {value}".strip(),
            command="task",
        )
    row = matches[0]
    if row.done_at is not None:
        return Reply(f"No.{row.id}「{row.title}」は既に完了しています。変更はできません。")
    if field == "due":
        return _change_due(ctx, row, value)
    if field == "owner":
        return _change_owner(ctx, row, value)
    return _change_title(ctx, row, value)


def _change_due(ctx: Context, row: ActionItem, value: str) -> Reply:
    found = find_date(ctx, value, retry=f"タスク 変更 {row.id} 期限", command="task")
    if isinstance(found, Reply):
        return found
    if found is None:
        return Reply(f"新しい期限を日付で入れてください。例：「タスク 変更 {row.id} 期限 12/19」")
    new = found[0].end
    old = row.due_on
    record_update(ctx, row, {"due_on": new}, f"タスク {row.title} の期限変更")
    note = odd_day_note(new)
    return Reply(
        f"No.{row.id}「{row.title}」の期限を変更しました：{fmt_date(old, today=ctx.today)} → "
        f"{fmt_date(new, today=ctx.today)}" + (f"\n{note}" if note else "")
    )


def _change_owner(ctx: Context, row: ActionItem, value: str) -> Reply:
    name = value.strip().lstrip("@＠").removesuffix("に").removesuffix("さん").strip()
    if not name:
        return Reply(f"新しい担当者の名前を入れてください。例：「タスク 変更 {row.id} 担当 佐藤」")
    agreement = ctx.session.get(Agreement, row.agreement_id)
    assert agreement is not None
    matches = _owners(ctx, agreement, name)
    if len(matches) != 1:
        options = [
            Button(c.name[:20], f"タスク 変更 {row.id} 担当 @{c.key}")
            for c in _owners(ctx, agreement, "")
        ]
        return ask(
            ctx,
            f"「{name}」に当たる担当者が{'複数' if matches else '見つかりません'}。誰の担当にしますか？",
            options,
            command="task",
        )
    owner = matches[0]
    old = ctx.session.get(Contact, row.owner_id) if row.owner_id else None
    record_update(ctx, row, {"owner_id": owner.id}, f"タスク {row.title} の担当変更")
    return Reply(
        f"No.{row.id}「{row.title}」の担当を変更しました：{old.name if old else '担当未定'} → {owner.name}"
    )


def _change_title(ctx: Context, row: ActionItem, value: str) -> Reply:
    title = " ".join(value.strip().strip("「」『』\"'").split())
    if not title:
        return Reply(f"新しい件名を入れてください。例：「タスク 変更 {row.id} 件名 報告書の提出」")
    if has_command_word(title):
        return Reply(f"「{title}」は件名にできません（番号や「変更」などの言葉が入っています）。")
    old = row.title
    record_update(ctx, row, {"title": title}, f"タスク {old} の件名変更")
    return Reply(f"No.{row.id}の件名を変更しました：「{old}」→「{title}」")
