"""活動 / log: record what happened, e.g. 「活動 11/20 防災訓練 参加者45名」."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.agreements import pick_agreement
from handlers.context import Context
from handlers.dates import WeekdayMismatch, find_when
from handlers.messages import Button, Reply
from handlers.numbers import find_counts
from handlers.text import WEEKDAYS, fmt_date, fmt_number, short_title
from storage.models import Activity

EXAMPLE = "例：「活動 11/20 防災訓練 参加者45名」"
TITLE_MAX = 300


def log(ctx: Context, args: str) -> Reply:
    agreement, args, ask = pick_agreement(ctx, args, command="活動")
    if ask is not None:
        return ask
    assert agreement is not None
    try:
        found = find_when(args, today=ctx.today)
    except WeekdayMismatch as exc:
        return _ask_weekday(exc, args, agreement.key)
    if found is None:
        return Reply(
            f"いつの活動ですか？ 日付を入れてください。{EXAMPLE}",
            buttons=tuple(
                Button(label=w, text=f"活動 {w} {args} 協定:{agreement.key}")
                for w in ("今日", "昨日")
            ),
        )
    when, rest = found
    if when.end != when.start:
        return Reply(f"活動の日付は1日で指定してください。{EXAMPLE}")
    if when.start > ctx.today:
        return Reply(
            f"{fmt_date(when.start, year=True)}はまだ先の日付です。予定は「会議」や「タスク」で登録できます。"
        )
    counts, title = find_counts(rest)
    field = next((f for f in agreement.fields if f in title.split(" ")), None)
    if field is not None:
        title = " ".join(w for w in title.split(" ") if w != field) or field
    if not title:
        return Reply(f"活動の内容（タイトル）を入れてください。{EXAMPLE}")
    if len(title) > TITLE_MAX:
        return Reply(
            f"タイトルが長すぎます（{TITLE_MAX}文字まで）。詳しい内容は短く分けて記録してください。"
        )
    activity = Activity(
        agreement_id=agreement.id,
        occurred_on=when.start,
        field=field,
        title=title,
        counts={
            c.label or "件数": {"value": _json_number(c.value), "unit": c.unit} for c in counts
        },
        note=None,
        logged_by_id=ctx.contact.id,
        platform=ctx.incoming.platform,
        created_at=ctx.now,
    )
    ctx.session.add(activity)
    ctx.session.flush()
    shown = describe_counts(activity.counts)
    return Reply(
        f"活動を記録しました（No.{activity.id}）\n{fmt_date(when.start)} {title}{shown}"
        f"{f'（{field}）' if field else ''}\n［{short_title(agreement.title)}］"
    )


def _json_number(value: object) -> int | float:
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number.is_integer() else number


def describe_counts(counts: dict[str, dict[str, object]]) -> str:
    return "".join(f" {label}{fmt_number(c['value'])}{c['unit']}" for label, c in counts.items())


# The token that carries the contradicting weekday, e.g. 「12月1日(月)」.
_WEEKDAY_TOKEN = re.compile(r"\S*[(（][月火水木金土日](?:曜日?)?[)）]\S*")


def _ask_weekday(exc: WeekdayMismatch, args: str, key: str) -> Reply:
    """Offer the date as written and the nearest day with the weekday as written."""
    day = exc.day
    other = min(
        (
            day + timedelta(days=d)
            for d in range(-3, 4)
            if (day + timedelta(days=d)).weekday() == exc.written_weekday
        ),
        key=lambda d: abs((d - day).days),
    )
    rest = _WEEKDAY_TOKEN.sub("", args, count=1).strip()
    return Reply(
        f"{fmt_date(day, year=True)}は{WEEKDAYS[day.weekday()]}曜日です。"
        f"書かれた曜日（{WEEKDAYS[exc.written_weekday]}）と合いません。どちらの日ですか？",
        buttons=tuple(
            Button(label=fmt_date(d), text=f"活動 {d:%Y/%m/%d} {rest} 協定:{key}")
            for d in (day, other)
        ),
    )
