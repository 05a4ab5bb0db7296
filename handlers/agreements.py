"""Which agreement a message is about: named, the only one, or asked back with buttons."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.context import Context
from handlers.messages import Button, Reply
from handlers.text import short_title
from storage.due import agreements_of
from storage.models import Agreement

# `協定:minato-acme` in a message names the agreement; buttons use it to answer "which one?".
AGREEMENT_TOKEN = re.compile(r"(?:協定|agreement)[:=]([A-Za-z0-9][A-Za-z0-9_.-]*)", re.IGNORECASE)
MAX_CHOICES = 13  # LINE allows at most 13 quick replies


def my_agreements(ctx: Context) -> list[Agreement]:
    return list(
        ctx.session.scalars(
            select(Agreement)
            .where(Agreement.id.in_(agreements_of(ctx.contact.id)))
            .order_by(Agreement.id)
        )
    )


def pick_agreement(
    ctx: Context, args: str, *, command: str
) -> tuple[Agreement | None, str, Reply | None]:
    """(agreement, args without the token, None) or (None, args, a reply that asks or refuses)."""
    mine = my_agreements(ctx)
    match = AGREEMENT_TOKEN.search(args)
    if match:
        rest = (args[: match.start()] + args[match.end() :]).strip()
        chosen = next((a for a in mine if a.key == match.group(1)), None)
        if chosen is None:  # never say whether someone else's agreement exists
            return None, rest, Reply("その協定は見つからないか、あなたの担当ではありません。")
        return chosen, rest, None
    if len(mine) == 1:
        return mine[0], args, None
    if not mine:
        return (
            None,
            args,
            Reply("担当している協定がまだありません。事務局に登録を依頼してください。"),
        )
    buttons = tuple(
        Button(
            label=short_title(a.title)[:20],
            text=f"{command} {args} 協定:{a.key}".replace("  ", " "),
        )
        for a in mine[:MAX_CHOICES]
    )
    return None, args, Reply("どの協定の記録ですか？ 選んでください。", buttons=buttons)
