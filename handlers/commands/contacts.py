"""連絡先 / contacts: who the liaisons of one's agreements are, on both sides, and how to reach
them (「先方の担当者は誰？」「連絡先教えて」). Shown to the person alone: it holds e-mail addresses."""

from __future__ import annotations

from handlers.agreement_facts import Side, sides
from handlers.agreements import NOT_YOURS, named_agreement
from handlers.context import Context
from handlers.messages import Card, Reply
from handlers.text import short_title

MAX_CARDS = 10  # a CSR office on 50 agreements names the one it means


def contacts(ctx: Context, args: str) -> Reply:
    shown, _ = named_agreement(ctx, args, by_name=True)
    if shown is None:
        return Reply(NOT_YOURS, private=True)
    if not shown:
        return Reply("担当している協定がまだありません。", private=True)
    cards = tuple(
        Card(short_title(a.title), tuple(r for side in sides(ctx.session, a) for r in _rows(side)))
        for a in shown[:MAX_CARDS]
    )
    more = len(shown) - len(cards)
    head = f"協定の担当者（{len(cards)}件）"
    if more > 0:
        head += f"。ほかに{more}件：「連絡先 さくら町」のように協定の名前で絞れます"
    return Reply(head, cards=cards, private=True)


def _rows(side: Side) -> list[tuple[str, str]]:
    rows = []
    for label, who in (("正担当", side.primary), ("副担当", side.secondary)):
        if who is None:
            rows.append((f"{side.organization} {label}", "未設定"))
            continue
        contact, linked = who
        email = f" {contact.email}" if contact.email else ""
        rows.append(
            (
                f"{side.organization} {label}",
                f"{contact.name}{email}{'' if linked else '（チャット未登録）'}",
            )
        )
    return rows
