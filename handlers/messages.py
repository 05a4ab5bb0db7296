"""Neutral data in the middle: what a liaison said, and what the bot answers.

Platforms exist only at the edge (bot/); each adapter turns its event into an `Incoming`
and renders a `Reply` in its own way (LINE quick replies, Slack Block Kit, plain text).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Incoming:
    platform: str  # line | slack | local
    user_id: str  # the platform's user id (local: the contact key)
    text: str  # typed text, or the text a tapped button stands for
    chat_id: str | None = None  # group or channel it was said in; None in a 1:1 chat
    addressed: bool = True  # in a group: was the bot mentioned?


@dataclass(frozen=True)
class Button:
    label: str  # short: LINE cuts quick-reply labels at 20 characters
    text: str  # tapping the button sends this text, as if typed


@dataclass(frozen=True)
class Card:
    """A small panel (LINE Flex bubble, Slack section with fields), e.g. one agreement's status."""

    title: str
    rows: tuple[tuple[str, str], ...]  # (label, value)


@dataclass(frozen=True)
class Reply:
    text: str
    items: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    private: bool = False  # answer only to the sender (Slack ephemeral)
    image_png: bytes | None = None  # a chart, e.g. KPI progress in the weekly digest
    image_alt: str = ""  # what the chart shows, for text-only channels and screen readers
    cards: tuple[Card, ...] = ()

    def as_text(self) -> str:
        """The whole reply as plain text, for the local channel and text-only platforms."""
        lines = [self.text, *(f"・{item}" for item in self.items)]
        for card in self.cards:
            lines += [f"■ {card.title}", *(f"　{label}：{value}" for label, value in card.rows)]
        if self.buttons:
            lines.append("選択肢: " + " / ".join(f"「{b.text}」" for b in self.buttons))
        return "\n".join(lines)
