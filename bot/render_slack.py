"""A `Reply` as Slack Block Kit: text, a list, cards as sections with fields, and buttons
that send their text back (handled by the `renkei_choice_*` action listener).

Text is escaped (`& < >`, as Slack asks): 「清掃 & 交流会」 or 「a <b>」 must not read as markup.
"""

from __future__ import annotations

from typing import Any

from bot.slack_text import escape
from handlers.messages import Button, Card, Reply

ACTION_PREFIX = "renkei_choice_"
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_BLOCKS = 50
# The App Home's buttons: the same actions as the LINE rich menu. Each sends its text, as if
# typed, so it must be a command word (handlers/registry.py).
HOME_ACTIONS = (
    Button("予定", "予定"),
    Button("活動", "活動"),
    Button("KPI", "KPI"),
    Button("状況", "状況"),
    Button("ダッシュボード", "ダッシュボード"),
    Button("ヘルプ", "ヘルプ"),
)


def to_slack_message(reply: Reply, *, note: str = "") -> dict[str, Any]:
    """`note`: Slack markup of our own (e.g. a `<@U…>` mention) shown first, not escaped."""
    blocks = to_blocks(reply)
    if note:
        blocks = [_section(note, markup=True), *blocks][:MAX_BLOCKS]
    text = escape(reply.as_text())
    return {
        "text": (f"{note}\n{text}" if note else text)[:SECTION_LIMIT],  # the fallback
        "blocks": blocks,
    }


def home_view(reply: Reply) -> dict[str, Any]:
    """The App Home: the menu's buttons first, then the reply (the due list)."""
    menu = _actions(HOME_ACTIONS, prefix=f"{ACTION_PREFIX}home_")
    blocks = [menu, {"type": "divider"}, *to_blocks(reply)]
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def to_blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_section(reply.text)]
    for chunk in _chunks([f"• {item}" for item in reply.items]):
        blocks.append(_section(chunk))
    for card in reply.cards:
        blocks += _card(card)
    if reply.buttons:
        blocks.append(_actions(reply.buttons[:25], prefix=ACTION_PREFIX))
    return blocks[:MAX_BLOCKS]


def _actions(buttons: tuple[Button, ...], *, prefix: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": f"{prefix}{i}",
                "text": {"type": "plain_text", "text": b.label[:75]},  # plain: no escaping
                "value": b.text[:2000],
            }
            for i, b in enumerate(buttons)
        ],
    }


def _card(card: Card) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": card.title[:150]}}
    ]
    lines = [f"*{escape(label)}*\n{escape(value)}" for label, value in card.rows]
    blocks += [_section(chunk, markup=True) for chunk in _chunks(lines)]
    return blocks


def _chunks(lines: list[str]) -> list[str]:
    """Join lines into pieces that fit one section (Slack refuses longer text)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line[:SECTION_LIMIT]
        if current and len(current) + 1 + len(line) > SECTION_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def _section(text: str, *, markup: bool = False) -> dict[str, Any]:
    """`markup`: the text is Slack markup already (escaped where it came from a person)."""
    shown = text if markup else escape(text)
    return {"type": "section", "text": {"type": "mrkdwn", "text": shown[:SECTION_LIMIT] or " "}}
