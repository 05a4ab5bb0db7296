"""A `Reply` as LINE messages: text under the size limit, buttons as quick replies."""

from __future__ import annotations

from linebot.v3.messaging import (
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
)

from handlers.messages import Reply

TEXT_LIMIT = 5000
MAX_MESSAGES = 5  # per reply or push request
MAX_QUICK_REPLIES = 13


def to_line_messages(reply: Reply) -> list[Message]:
    text = "\n".join([reply.text, *(f"・{item}" for item in reply.items)])
    chunks = split_text(text, TEXT_LIMIT)[:MAX_MESSAGES]
    messages: list[Message] = [TextMessage(text=chunk) for chunk in chunks]
    if reply.buttons:
        items = [
            QuickReplyItem(
                action=PostbackAction(
                    label=b.label[:20], data=b.text[:300], displayText=b.text[:300]
                )
            )
            for b in reply.buttons[:MAX_QUICK_REPLIES]
        ]
        messages[-1] = TextMessage(text=chunks[-1], quickReply=QuickReply(items=items))
    return messages


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
