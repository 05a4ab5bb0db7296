"""スヌーズ / 対応済み: the buttons under every reminder, e.g. 「スヌーズ meeting:5」."""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.messages import Button, Reply
from handlers.text import fmt_datetime
from reminders.keys import ItemKey
from reminders.state import (
    MAX_SNOOZE_DAYS,
    SNOOZE_DAYS,
    acknowledge_item,
    item_agreement,
    item_title,
    snooze_item,
    snooze_until,
)
from storage.due import agreements_of

NOT_YOURS = "そのリマインドは見つからないか、あなたの担当ではありません。"
_DAYS = re.compile(r"^(\d{1,3})(?:日|days?|d)?$")


def snooze(ctx: Context, args: str) -> Reply:
    words = args.split()
    if not words:
        return Reply(
            "どのリマインドを延ばしますか？ リマインドの「スヌーズ」ボタンを押してください。"
            f"（例：「スヌーズ meeting:5」で{SNOOZE_DAYS}日後、「スヌーズ meeting:5 7日」で7日後）"
        )
    ref, problem = _item(ctx, words[0])
    if ref is None:
        return Reply(problem)
    days = SNOOZE_DAYS
    if len(words) > 1:
        found = _DAYS.match(words[1])
        if found is None or not 1 <= int(found.group(1)) <= MAX_SNOOZE_DAYS:
            return Reply(
                f"延ばす日数は1〜{MAX_SNOOZE_DAYS}日で指定してください。例：「スヌーズ {ref.key} 7日」"
            )
        days = int(found.group(1))
    until = snooze_until(ctx.now, ctx.tz, days)
    snooze_item(ctx.session, ref, contact_id=ctx.contact.id, now=ctx.now, until=until)
    return Reply(
        f"{item_title(ctx.session, ref)}のリマインドを{fmt_datetime(until, ctx.tz)}まで止めました。"
        "そのときにもう一度お知らせします（関係者全員分）。",
        buttons=(_done_button(ref),),
    )


def acknowledge(ctx: Context, args: str) -> Reply:
    words = args.split()
    if not words:
        return Reply(
            "どのリマインドを対応済みにしますか？ リマインドの「対応済み」ボタンを押してください。"
        )
    ref, problem = _item(ctx, words[0])
    if ref is None:
        return Reply(problem)
    title = item_title(ctx.session, ref)
    if ref.kind == "action_item":  # a task is closed as done, which also stops its reminders
        return Reply(
            f"{title}は「完了 {ref.id}」で完了にしてください。完了するとリマインドも止まります。",
            buttons=(_done_button(ref),),
        )
    if not acknowledge_item(ctx.session, ref, contact_id=ctx.contact.id, now=ctx.now):
        return Reply(f"{title}はすでに対応済みです。リマインドは送られません。")
    return Reply(f"{title}を対応済みにしました。このリマインドは今後送りません（関係者全員分）。")


def _item(ctx: Context, text: str) -> tuple[ItemKey | None, str]:
    ref = ItemKey.parse(text)
    if ref is None:
        return None, (
            f"「{text[:40]}」はリマインドの番号として読めませんでした。"
            "リマインドのボタンから押してください（例：「スヌーズ meeting:5」）。"
        )
    agreement = item_agreement(ctx.session, ref)
    mine = set(ctx.session.scalars(agreements_of(ctx.contact.id)))
    if agreement is None or agreement.id not in mine:  # never say whether it exists
        return None, NOT_YOURS
    return ref, ""


def _done_button(ref: ItemKey) -> Button:
    if ref.kind == "action_item":
        return Button("完了", f"完了 {ref.id}")
    return Button("対応済み", f"対応済み {ref.key}")
