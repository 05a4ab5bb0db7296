"""活動 / log: record what happened, e.g. 「活動 11/20 防災訓練 参加者45名 メモ:雨天のため体育館」."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import bindparam, select

from handlers.agreements import pick_agreement
from handlers.changes import record_create
from handlers.context import Context
from handlers.item_refs import has_command_word
from handlers.messages import Button, Reply
from handlers.numbers import find_counts
from handlers.questions import ask
from handlers.text import fmt_date, fmt_number, short_title
from handlers.when import find_date
from storage.limits import KPI_VALUE_LIMIT
from storage.models import Activity, Agreement

# 「清掃 30名」: a head count without a label is how many took part, not 「件数30名」.
_UNLABELLED = {"名": "参加者", "人": "参加者", "名様": "参加者"}
EXAMPLE = "例：「活動 11/20 防災訓練 参加者45名」"
TITLE_MAX = 300
# Everything after メモ / 備考 / note is the free-text note, kept as typed.
NOTE = re.compile(r"(?:メモ|備考|感想|note)\s*[:：]?\s*(.+)$", re.IGNORECASE)
# 「参加者 32名」: a count's label typed apart from its number is still its label.
_LABEL_APART = re.compile(
    r"(?<!\S)(\S*(?:者|数|参加|来場|配布|相談|企業|団体|人数))\s+"
    r"(?=(?:約|およそ|延べ|のべ)?[0-9一二三四五六七八九十百千万]+(?:[,.][0-9]+)*\s*[^\s0-9/:])"
)
_UNIT_APART = re.compile(
    r"([0-9])\s+(名|人|件|社|団体|回|部|枚|個|店舗|校|世帯)(?=[\s・、，,/／;；]|$)"
)
# Separators left behind where counts were cut out: 「セミナー ・」 → 「セミナー」.
_SEPARATORS = "・、，,/／;；"
_STRAY_SEP = re.compile(
    rf"(?:^|\s)[{_SEPARATORS}]+(?=\s|$)|^[{_SEPARATORS}\s]+|[{_SEPARATORS}\s]+$"
)
DOUBLE_WINDOW = timedelta(minutes=10)
AGAIN = "重複OK"  # the token of 「はい、もう一度記録」: the double was seen and meant


def log(ctx: Context, args: str) -> Reply:
    picked = pick_agreement(ctx, args, command="活動", question="どの協定の活動ですか？")
    if isinstance(picked, Reply):
        return picked
    agreement, args = picked
    again = AGAIN in args.split()
    if again:
        args = " ".join(w for w in args.split() if w != AGAIN)
    retry = args
    note = None
    if m := NOTE.search(args):
        note, args = m.group(1).strip(), args[: m.start()].strip()
    found = find_date(ctx, args, retry=f"活動 協定:{agreement.key}", command="活動")
    if isinstance(found, Reply):
        return found
    if found is None:
        options = [
            Button(w, " ".join(f"活動 {w} {args} 協定:{agreement.key}".split()))
            for w in ("今日", "昨日")
        ]
        return ask(
            ctx, f"いつの活動ですか？ 日付を入れてください。{EXAMPLE}", options, command="活動"
        )
    when, rest = found
    if when.end != when.start:
        return Reply(f"活動の日付は1日で指定してください。{EXAMPLE}")
    if when.start > ctx.today:
        return Reply(
            f"{fmt_date(when.start, year=True)}はまだ先の日付です。予定は「会議」や「タスク」で登録できます。"
        )
    counts, title = find_counts(_UNIT_APART.sub(r"\1\2", _LABEL_APART.sub(r"\1", rest)))
    title = " ".join(_STRAY_SEP.sub(" ", title).split())
    words = title.split()
    field = next((f for f in agreement.fields if f in words), None)
    if field is not None:
        title = " ".join(w for w in words if w != field) or field
    if not title:
        return Reply(f"活動の内容（タイトル）を入れてください。{EXAMPLE}")
    if has_command_word(title):
        return Reply(
            f"「{title}」は活動の内容として記録しませんでした（番号や「変更」などの言葉が入っています）。"
            f"{EXAMPLE}"
        )
    if len(title) > TITLE_MAX:
        return Reply(
            f"タイトルが長すぎます（{TITLE_MAX}文字まで）。詳しい内容は「メモ:」の後に書けます。"
        )
    if too_big := next((c for c in counts if abs(c.value) >= KPI_VALUE_LIMIT), None):
        return Reply(
            f"{fmt_number(too_big.value)} は大きすぎます（整数14桁まで）。何も記録していません。"
        )
    stored_counts = {
        c.label or _UNLABELLED.get(c.unit, "件数"): {"value": _json_number(c.value), "unit": c.unit}
        for c in counts
    }
    if not again and (twin := _recent_twin(ctx, agreement, when.start, title, stored_counts)):
        minutes = max(1, int((ctx.now - twin.created_at).total_seconds() // 60))
        return ask(
            ctx,
            f"同じ活動を{minutes}分前に記録しています（No.{twin.id} {fmt_date(twin.occurred_on)} "
            f"{twin.title}）。もう一度記録しますか？",
            [
                Button("はい、もう一度記録", f"活動 {retry} 協定:{agreement.key} {AGAIN}"),
                Button("いいえ", "キャンセル"),
            ],
            command="活動",
        )
    activity = Activity(
        agreement_id=agreement.id,
        occurred_on=when.start,
        field=field,
        title=title,
        counts=stored_counts,
        note=note,
        logged_by_id=ctx.contact.id,
        platform=ctx.incoming.platform,
        created_at=ctx.now,
    )
    ctx.session.add(activity)
    record_create(ctx, activity, f"活動 {fmt_date(when.start)} {title}")
    extra = f"（{field}）" if field else ""
    memo = f"\nメモ：{note}" if note else ""
    return Reply(
        f"活動を記録しました（No.{activity.id}）\n{fmt_date(when.start, today=ctx.today)} {title}"
        f"{describe_counts(activity.counts)}{extra}{memo}\n［{short_title(agreement.title)}］\n"
        "間違えたときは10分以内なら「取消」で取り消せます。"
    )


_SAME_TITLE_SINCE = select(Activity).where(
    Activity.agreement_id == bindparam("agreement"),
    Activity.occurred_on == bindparam("day"),
    Activity.title == bindparam("title"),
    Activity.created_at >= bindparam("since"),
)  # built once (see storage.due)


def _recent_twin(
    ctx: Context, agreement: Agreement, day: object, title: str, counts: dict[str, object]
) -> Activity | None:
    """The same activity recorded in the last ten minutes (a double tap, a resend)."""
    recent = ctx.session.scalars(
        _SAME_TITLE_SINCE,
        {"agreement": agreement.id, "day": day, "title": title, "since": ctx.now - DOUBLE_WINDOW},
    )
    return next((a for a in recent if a.counts == counts), None)


def describe_counts(counts: dict[str, dict[str, object]]) -> str:
    return "".join(f" {label}{fmt_number(c['value'])}{c['unit']}" for label, c in counts.items())


def _json_number(value: object) -> int | float:
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number.is_integer() else number
