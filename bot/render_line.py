"""A `Reply` as LINE messages: text under the size limit, cards as a Flex bubble (or carousel),
buttons as quick replies that post back the text they stand for."""

from __future__ import annotations

from typing import Any

from linebot.v3.messaging import Message

from handlers.messages import Card, Reply

TEXT_LIMIT = 5000
MAX_MESSAGES = 5  # per reply or push request
MAX_QUICK_REPLIES = 13
MAX_BUBBLES = 12  # per Flex carousel


def to_line_messages(reply: Reply) -> list[Message]:
    """The SDK's models of `line_messages` (the deliverer's pushes go through them)."""
    return [Message.from_dict(m) for m in line_messages(reply)]


def line_messages(reply: Reply) -> list[dict[str, Any]]:
    """The message objects of LINE's Messaging API, as the JSON it documents: the one place a
    `Reply` becomes LINE messages. Replies send these as they are; building the SDK's models
    for them cost more than the rest of answering a message."""
    messages: list[dict[str, Any]] = [{"type": "text", "text": c} for c in _text_chunks(reply)]
    if reply.cards:
        messages.append(flex_contents(reply.cards, alt=reply.text))
    messages = messages[:MAX_MESSAGES]
    if reply.buttons:
        items = [
            {
                "type": "action",
                "action": {
                    "type": "postback",
                    "label": b.label[:20],
                    "data": b.text[:300],
                    "displayText": b.text[:300],
                },
            }
            for b in reply.buttons[:MAX_QUICK_REPLIES]
        ]
        # Quick replies show under the last message of the reply.
        messages[-1]["quickReply"] = {"items": items}
    return messages


def message_count(reply: Reply) -> int:
    """How many message objects `to_line_messages` makes, without making them (the deliverer
    packs pushes by this, and building the SDK's models was half of a Monday's delivery)."""
    return min(len(_text_chunks(reply)) + bool(reply.cards), MAX_MESSAGES)


def _text_chunks(reply: Reply) -> list[str]:
    text = "\n".join([reply.text, *(f"・{item}" for item in reply.items)])
    return split_text(text, TEXT_LIMIT)


def flex_contents(cards: tuple[Card, ...], *, alt: str) -> dict[str, Any]:
    bubbles = [_bubble(card) for card in cards[:MAX_BUBBLES]]
    contents: dict[str, Any] = (
        bubbles[0] if len(bubbles) == 1 else {"type": "carousel", "contents": bubbles}
    )
    return {"type": "flex", "altText": alt[:400] or "Renkei", "contents": contents}


def _bubble(card: Card) -> dict[str, Any]:
    rows = [
        {
            "type": "box",
            "layout": "vertical",
            "margin": "md",
            "contents": [
                {
                    "type": "text",
                    "text": label[:100] or " ",
                    "size": "xs",
                    "color": "#888888",
                    "wrap": True,
                },
                {"type": "text", "text": value[:500] or " ", "size": "sm", "wrap": True},
            ],
        }
        for label, value in card.rows
    ]
    return {
        "type": "bubble",
        "header": {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {"type": "text", "text": card.title[:100] or " ", "weight": "bold", "wrap": True}
            ],
        },
        "body": {
            "type": "box",
            "layout": "vertical",
            "contents": rows or [{"type": "text", "text": " "}],
        },
    }


def split_text(text: str, limit: int) -> list[str]:
    """Split at line breaks where possible, so no message is cut mid-line."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    chunks.append(current)
    return [c for c in chunks if c] or [""]
