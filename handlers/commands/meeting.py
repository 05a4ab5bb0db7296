"""会議 / meeting: 「会議 12/10 14:00 実務者会議 場所:市役所3F」, 「会議」(list),
「会議 変更 3 12/12 15:00」 (also 「15:30」, 「場所 …」, 「件名 …」, and by title or date instead of
the number: 「会議 成果報告会 3/11 13:30 に変更」), 「会議 中止 3」."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time

from sqlalchemy import select

from handlers.agreements import AGREEMENT_TOKEN, NOT_YOURS, named_agreement, pick_agreement
from handlers.changes import record_create, record_update
from handlers.context import Context
from handlers.dates import find_when
from handlers.item_refs import (
    CHANGE_TAIL,
    as_date,
    ask_which,
    has_command_word,
    is_number,
    meetings_for,
    split_field,
    strip_change,
)
from handlers.messages import Button, Reply
from handlers.questions import ask
from handlers.text import fmt_datetime, odd_day_note, short_title
from handlers.when import find_date
from storage.models import Agreement, Meeting

EXAMPLE = "例：「会議 12/10 14:00 実務者会議 市役所3F」"
LIST_WORDS = {"一覧", "予定", "list", "ls"}
MOVE_WORDS = {"変更", "修正", "延期", "移動", "move", "reschedule", "change", "edit"}
CANCEL_WORDS = {"中止", "取りやめ", "キャンセル", "cancel"}
TIMES = ("10:00", "13:30", "14:00", "15:00")
FIELDS = {
    "場所": "place",
    "会場": "place",
    "place": "place",
    "where": "place",
    "件名": "title",
    "タイトル": "title",
    "名前": "title",
    "会議名": "title",
    "title": "title",
    "日時": "when",
    "時間": "when",
    "時刻": "when",
    "日程": "when",
    "time": "when",
}
# 「会議 成果報告会 3/11 13:30 に変更」「会議 12/17 中止」: the command word comes last.
MOVE_TAIL = re.compile(r"(?:^|\s|に|へ|を)(?:変更|延期|移動)(?:で|して|します|お願いします)?$")
CANCEL_TAIL = re.compile(r"(?:^|\s|は|を)(?:中止|取りやめ|キャンセル)(?:で|にして|します|です)?$")
# A place is what follows 場所: / @ / ＠, or a last word that reads as one (市役所3F, 公民館).
PLACE_MARK = re.compile(r"(?:場所|会場|place)\s*[:：]\s*|[@＠]\s*", re.IGNORECASE)
PLACE_WORD = re.compile(
    r"(?:役所|役場|庁舎|会議室|ホール|センター|会館|公民館|館|室|[0-9]+[FＦ階]|店|店舗|本社|支社|"
    r"支店|事務所|学校|体育館|会場|オンライン|online|zoom|teams|webex|meet)$",
    re.IGNORECASE,
)
TIME_ONLY = re.compile(r"^([01]?[0-9]|2[0-3])(?::|時)([0-5][0-9])?分?(?:から|〜|~)?$")
EDIT_EXAMPLE = (
    "例：「会議 変更 3 12/12 15:00」「会議 変更 3 場所 市役所3F」「会議 変更 3 件名 成果報告会」"
)


def meeting(ctx: Context, args: str) -> Reply:
    head, _, rest = args.partition(" ")
    if not AGREEMENT_TOKEN.sub("", args).strip():  # 「タスク」 or 「タスク 協定:xxx」: the list
        return _list(ctx, args)
    if head.lower() in LIST_WORDS:
        return _list(ctx, rest)
    if head.lower() in MOVE_WORDS:
        return _move(ctx, rest)
    if head.lower() in CANCEL_WORDS:
        return _cancel(ctx, rest)
    if CANCEL_TAIL.search(args):
        return _cancel(ctx, CANCEL_TAIL.sub("", args).strip())
    if MOVE_TAIL.search(args) or (CHANGE_TAIL.search(args) and split_field(args, FIELDS)[0]):
        return _move(ctx, args)
    return _schedule(ctx, args)


def _schedule(ctx: Context, args: str) -> Reply:
    picked = pick_agreement(ctx, args, command="会議", question="どの協定の会議ですか？")
    if isinstance(picked, Reply):
        return picked
    agreement, args = picked
    found = find_date(ctx, args, retry=f"会議 協定:{agreement.key}", command="meeting")
    if isinstance(found, Reply):
        return found
    if found is None:
        return Reply(f"会議の日付と時刻を入れてください。{EXAMPLE}")
    when, rest = found
    if when.time is None:
        options = [
            Button(
                t, " ".join(f"会議 {when.start:%Y/%m/%d} {t} {rest} 協定:{agreement.key}".split())
            )
            for t in TIMES
        ]
        return ask(
            ctx,
            "何時からですか？ 時刻を選ぶか「14:00」のように送ってください。",
            options,
            command="meeting",
        )
    starts_at = datetime.combine(when.start, when.time, ctx.tz)
    if starts_at < ctx.now:
        return Reply(
            f"{fmt_datetime(starts_at, ctx.tz)}は過ぎています。これからの日時を入れてください。"
        )
    title, place = split_place(rest)
    if not title:
        return Reply(f"会議の名前を入れてください。{EXAMPLE}")
    if has_command_word(title):
        return Reply(
            f"「{title}」は会議名として登録しませんでした（番号や「変更」などの言葉が入っています）。\n"
            f"登録済みの会議を直すときは{EDIT_EXAMPLE.removeprefix('例：')}のように送ってください。"
        )
    kind = "steering" if "推進" in title else "working" if "実務" in title else "other"
    row = Meeting(
        agreement_id=agreement.id,
        kind=kind,
        title=title,
        starts_at=starts_at,
        place=place or None,
        cancelled=False,
        import_key=None,
    )
    ctx.session.add(row)
    record_create(ctx, row, f"会議 {title}")
    where = (
        f"\n場所：{place}（違うときは「会議 変更 {row.id} 場所 …」）"
        if place
        else f"\n場所：未定（「会議 変更 {row.id} 場所 …」で入れられます）"
    )
    note = odd_day_note(when.start)
    return Reply(
        f"会議を登録しました（No.{row.id}）\n{fmt_datetime(starts_at, ctx.tz, today=ctx.today)} "
        f"{title}{where}\n{note + chr(10) if note else ''}"
        f"［{short_title(agreement.title)}］\n両方の担当者にリマインドします。"
    )


def split_place(text: str) -> tuple[str, str]:
    """(title, place): the place follows 場所:/@/＠, or is a last word that reads as one; never
    guessed from the first space (「地域限定商品 試食会」 is one title)."""
    if m := PLACE_MARK.search(text):
        return " ".join(text[: m.start()].split()), " ".join(text[m.end() :].split())
    words = text.split()
    if len(words) >= 2 and PLACE_WORD.search(words[-1]):
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), ""


def _list(ctx: Context, args: str) -> Reply:
    agreements, _ = named_agreement(ctx, args, by_name=True)
    if agreements is None:
        return Reply(NOT_YOURS)
    rows = ctx.session.execute(
        select(Meeting, Agreement.title)
        .join(Agreement, Agreement.id == Meeting.agreement_id)
        .where(Meeting.agreement_id.in_([a.id for a in agreements]), Meeting.cancelled.is_(False))
        .where(Meeting.starts_at >= ctx.now)
        .order_by(Meeting.starts_at)
        .limit(20)
    ).all()
    if not rows:
        return Reply(f"予定されている会議はありません。{EXAMPLE}")
    items = tuple(
        f"No.{m.id} {fmt_datetime(m.starts_at, ctx.tz, today=ctx.today)} {m.title}{f'（{m.place}）' if m.place else ''}"
        f"［{short_title(title)}］"
        for m, title in rows
    )
    return Reply(
        "これからの会議（変更は「会議 変更 No. 日時」、中止は「会議 中止 No.」）", items=items
    )


def _pick(ctx: Context, ref: str, then: Callable[[int], str], *, what: str) -> Meeting | Reply:
    """The one meeting `ref` names (number, date or title words; all upcoming ones when empty),
    or a reply: none found, or which of several."""
    ref = ref.strip().removesuffix("の").strip()
    matches = meetings_for(ctx, ref)
    if not matches:
        what_ref = "その番号の" if is_number(ref) else f"「{ref}」に当たる" if ref else ""
        return Reply(
            f"{what_ref}予定の会議が見つかりません。「会議」で一覧と番号を確かめてください。"
        )
    if len(matches) > 1:
        return ask_which(
            ctx,
            "会議",
            ref or what,
            [(m.id, f"{m.starts_at.astimezone(ctx.tz):%m/%d} {m.title}") for m in matches],
            lambda n: then(n).strip(),
            command="meeting",
        )
    return matches[0]


def _move(ctx: Context, args: str) -> Reply:
    """Move a meeting (date and/or time), or change its place or title."""
    field, ref, value = split_field(args, FIELDS)
    if field in ("place", "title"):
        if not ref and value.split() and is_number(value.split()[0]):
            ref, _, value = value.partition(" ")
        picked = _pick(
            ctx,
            ref,
            lambda n: f"会議 変更 {n} {'場所' if field == 'place' else '件名'} {value}",
            what="変更する",
        )
        if isinstance(picked, Reply):
            return picked
        return _change_text(ctx, picked, field, value)
    text = strip_change(f"{ref} {value}" if field == "when" else ref)
    tokens = text.split()
    if tokens and (is_number(tokens[0]) or (len(tokens) > 1 and as_date(ctx, tokens[0]))):
        ref, spec = tokens[0], " ".join(tokens[1:])
    else:
        ref, spec = _ref_and_when(ctx, text)
    picked = _pick(ctx, ref, lambda n: f"会議 変更 {n} {spec}", what="変更する")
    if isinstance(picked, Reply):
        return picked
    row = picked
    if row.cancelled:
        return Reply("その会議は中止になっています。「会議」で一覧と番号を確かめてください。")
    old = row.starts_at.astimezone(ctx.tz)
    new_day, new_time = old.date(), old.time()
    if m := TIME_ONLY.match(spec.strip()):
        new_time = time(int(m.group(1)), int(m.group(2) or 0))
    else:
        found = find_date(ctx, spec, retry=f"会議 変更 {row.id}", command="meeting")
        if isinstance(found, Reply):
            return found
        if found is None:
            return Reply(f"新しい日時を入れてください。{EDIT_EXAMPLE}")
        when, _ = found
        new_day, new_time = when.start, when.time or old.time()
    new = datetime.combine(new_day, new_time, ctx.tz)
    if new < ctx.now:
        return Reply(f"{fmt_datetime(new, ctx.tz)}は過ぎています。これからの日時を入れてください。")
    record_update(ctx, row, {"starts_at": new}, f"会議 {row.title} の日時変更")
    note = odd_day_note(new_day)
    return Reply(
        f"会議の日時を変更しました：{row.title}（No.{row.id}）\n"
        f"{fmt_datetime(old, ctx.tz, today=ctx.today)} → {fmt_datetime(new, ctx.tz, today=ctx.today)}"
        + (f"\n{note}" if note else "")
    )


def _ref_and_when(ctx: Context, text: str) -> tuple[str, str]:
    """「成果報告会 3/11 13:30」 → (「成果報告会」, 「3/11 13:30」); a lone time is a time."""
    try:
        found = find_when(text, today=ctx.today)
    except ValueError:  # the weekday question is asked once the meeting is known
        return "", text
    if found is None:
        words = text.split()
        if words and TIME_ONLY.match(words[-1]):
            return " ".join(words[:-1]), words[-1]
        return text, ""
    when, rest = found
    spec = when.start.strftime("%Y/%m/%d") + (f" {when.time:%H:%M}" if when.time else "")
    return rest, spec


def _change_text(ctx: Context, row: Meeting, field: str, value: str) -> Reply:
    new = " ".join(value.strip().strip("「」『』\"'").split())
    label = "場所" if field == "place" else "会議名"
    if not new:
        return Reply(f"新しい{label}を入れてください。{EDIT_EXAMPLE}")
    if field == "title" and has_command_word(new):
        return Reply(f"「{new}」は会議名にできません（番号や「変更」などの言葉が入っています）。")
    old = getattr(row, field) or "未定"
    record_update(ctx, row, {field: new}, f"会議 {row.title} の{label}変更")
    return Reply(f"会議の{label}を変更しました：No.{row.id}\n「{old}」→「{new}」")


def _cancel(ctx: Context, args: str) -> Reply:
    picked = _pick(ctx, args.strip(), lambda n: f"会議 中止 {n}", what="中止する")
    if isinstance(picked, Reply):
        return picked
    row = picked
    if row.cancelled:
        return Reply("その会議は既に中止になっています。")
    record_update(ctx, row, {"cancelled": True}, f"会議 {row.title} の中止")
    return Reply(
        f"会議を中止にしました：No.{row.id} {fmt_datetime(row.starts_at, ctx.tz, today=ctx.today)} "
        f"{row.title}\nリマインドも止まります。"
    )
