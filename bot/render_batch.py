"""Several notifications for one recipient as one LINE push or one Slack message.

LINE bills a push per recipient, whatever it holds (up to 5 message objects), so reminders go
as one carousel of bubbles, each with its own buttons, and a digest as its text, its cards and
its chart. Slack gets one message whose sections follow each other, divided.
"""

from __future__ import annotations

from typing import Any

from linebot.v3.messaging import FlexContainer, FlexMessage, ImageMessage, Message

from bot.render_line import MAX_MESSAGES, message_count, to_line_messages
from bot.render_slack import MAX_BLOCKS, SECTION_LIMIT, to_blocks
from bot.slack_text import escape
from handlers.messages import Reply

MAX_BUBBLES = 12  # per Flex carousel
NOTICE_LIMIT = 1000  # a longer reply is sent as text, not squeezed into a bubble


def _is_notice(reply: Reply, image: bool) -> bool:
    return not image and not reply.cards and len(reply.as_text()) <= NOTICE_LIMIT


def line_cost(replies: list[Reply], images: list[bool]) -> int:
    """How many message objects `to_line_batch` needs (a push holds `MAX_MESSAGES`)."""
    notices = sum(_is_notice(r, i) for r, i in zip(replies, images, strict=True))
    cost = -(-notices // MAX_BUBBLES)
    for reply, image in zip(replies, images, strict=True):
        if not _is_notice(reply, image):
            cost += message_count(reply) + image
    return cost


def to_line_batch(replies: list[Reply], image_urls: list[str | None]) -> list[Message]:
    pairs = list(zip(replies, image_urls, strict=True))
    notices = [r for r, url in pairs if _is_notice(r, url is not None)]
    messages: list[Message] = []
    for i in range(0, len(notices), MAX_BUBBLES):
        chunk = notices[i : i + MAX_BUBBLES]
        head = f"お知らせ{len(notices)}件：" if len(notices) > 1 else ""
        carousel = {"type": "carousel", "contents": [_bubble(r) for r in chunk]}
        messages.append(
            FlexMessage(
                altText=(head + " / ".join(r.text for r in chunk))[:400],
                contents=FlexContainer.from_dict(carousel),
            )
        )
    for reply, url in pairs:
        if _is_notice(reply, url is not None):
            continue
        messages += to_line_messages(reply)
        if url is not None:
            messages.append(ImageMessage(originalContentUrl=url, previewImageUrl=url))
    return messages[:MAX_MESSAGES]


def _bubble(reply: Reply) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "text", "text": reply.text or " ", "weight": "bold", "wrap": True, "size": "sm"}
    ]
    body += [
        {"type": "text", "text": item or " ", "wrap": True, "size": "xs", "color": "#555555"}
        for item in reply.items
    ]
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
    }
    if reply.buttons:
        bubble["footer"] = {
            "type": "box",
            "layout": "horizontal",
            "spacing": "sm",
            "contents": [
                {
                    "type": "button",
                    "style": "primary" if i == 0 else "secondary",
                    "height": "sm",
                    "action": {
                        "type": "postback",  # the tap comes back as the text it stands for
                        "label": b.label[:20],
                        "data": b.text[:300],
                        "displayText": b.text[:300],
                    },
                }
                for i, b in enumerate(reply.buttons[:3])
            ],
        }
    return bubble


def _blocks(reply: Reply, image_url: str | None) -> list[dict[str, Any]]:
    blocks = to_blocks(reply)
    if image_url is not None:
        blocks.append(
            {
                "type": "image",
                "image_url": image_url,  # the chart's page under PUBLIC_BASE_URL, as for LINE
                "alt_text": (reply.image_alt or "グラフ")[:2000],
            }
        )
    return blocks


def slack_cost(reply: Reply, image: bool) -> int:
    """Blocks the reply takes in `to_slack_batch`, with its divider."""
    return len(_blocks(reply, "F" if image else None)) + 1


def to_slack_batch(replies: list[Reply], image_urls: list[str | None]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for i, (reply, image_url) in enumerate(zip(replies, image_urls, strict=True)):
        if i:
            blocks.append({"type": "divider"})
        blocks += _blocks(reply, image_url)
    head = f"お知らせ{len(replies)}件：" if len(replies) > 1 else ""
    # the notification text is mrkdwn too: a title with & or < must not read as markup
    text = escape(head + " / ".join(r.text.split("\n", 1)[0] for r in replies))
    return {"text": text[:SECTION_LIMIT], "blocks": blocks[:MAX_BLOCKS]}
