"""A `Reply` as Slack Block Kit: a text section, a list, and buttons that send their text."""

from __future__ import annotations

from typing import Any

from handlers.messages import Reply

ACTION_PREFIX = "renkei_choice_"
SECTION_LIMIT = 3000


def to_slack_message(reply: Reply) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [_section(reply.text)]
    if reply.items:
        blocks.append(_section("\n".join(f"• {item}" for item in reply.items)))
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
    # `text` is the notification and screen-reader fallback.
    return {"text": reply.as_text()[:SECTION_LIMIT], "blocks": blocks}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT] or " "}}
