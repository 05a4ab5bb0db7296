"""A `Reply` as Slack Block Kit: text, a list, cards as sections with fields, and buttons
that send their text back (handled by the `renkei_choice_*` action listener)."""

from __future__ import annotations

from typing import Any

from handlers.messages import Card, Reply

ACTION_PREFIX = "renkei_choice_"
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_BLOCKS = 50


def to_slack_message(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.as_text()[:SECTION_LIMIT],
        "blocks": to_blocks(reply),
    }  # text: the fallback


def to_blocks(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_section(reply.text)]
    for chunk in _chunks([f"• {item}" for item in reply.items]):
        blocks.append(_section(chunk))
    for card in reply.cards:
        blocks += _card(card)
    if reply.buttons:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{ACTION_PREFIX}{i}",
                        "text": {"type": "plain_text", "text": b.label[:75]},
                        "value": b.text[:2000],
                    }
                    for i, b in enumerate(reply.buttons[:25])
                ],
            }
        )
    return blocks[:MAX_BLOCKS]


def _card(card: Card) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": card.title[:150]}}
    ]
    lines = [f"*{label}*\n{value}" for label, value in card.rows]
    blocks += [_section(chunk) for chunk in _chunks(lines)]
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


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT] or " "}}
