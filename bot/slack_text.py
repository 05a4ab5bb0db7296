"""Slack's message markup, decoded into the plain text a liaison typed.

Slack escapes `& < >` as entities and sends mentions, channels, links and e-mail addresses as
`<…>` tokens (https://docs.slack.dev/messaging/formatting-message-text#escaping). A handler
must see 「清掃 & 交流会」 and 「yamada@example.jp」, and a mention of a colleague must name the
contact linked to that Slack user, never be mistaken for the sender.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# One pass, no nesting: Slack never puts `<` or `>` inside a token (they are escaped).
TOKEN = re.compile(r"<([^<>]*)>")
ENTITY = re.compile(r"&(amp|lt|gt);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
USER = re.compile(r"@([A-Za-z0-9]+)")
UNKNOWN_USER = "@未登録ユーザー"
# Each distinct mention costs one look-up; a hostile message of thousands is not worth more.
MAX_LOOKUPS = 20


@dataclass(frozen=True)
class SlackText:
    text: str  # what the handler gets
    unknown_users: tuple[str, ...] = ()  # mentioned Slack users linked to no contact


def escape(text: str) -> str:
    """What Slack asks of text we send: only `& < >` become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return ENTITY.sub(lambda m: ENTITIES[m.group(1)], text)


def decode(
    text: str, *, contact_name: Callable[[str], str | None], bot_user_id: str | None = None
) -> SlackText:
    """`text` as typed: tokens replaced by their labels, a mention by `@` and the linked
    contact's name (spaces dropped, so 「タスク … @伊藤花子」 reads as one owner word).

    The bot's own mention is dropped: 「@Renkei 予定」 is the command 「予定」.
    """
    unknown: list[str] = []
    names: dict[str, str | None] = {}

    def name_of(user_id: str) -> str | None:
        if user_id not in names:
            names[user_id] = contact_name(user_id) if len(names) < MAX_LOOKUPS else None
        return names[user_id]

    def token(inner: str) -> str:
        target, _, label = inner.partition("|")
        label = unescape(label)
        if user := USER.fullmatch(target):
            user_id = user.group(1)
            if user_id == bot_user_id:
                return ""
            name = name_of(user_id)
            if name is None:
                unknown.append(user_id)
                # Still an `@` word: the task command asks whose task it is instead of
                # taking the sender as the owner.
                return UNKNOWN_USER
            return "@" + "".join(name.split())
        if target.startswith("#"):  # <#C123|general>, or <#C123> in newer payloads
            return "#" + (label or target[1:])
        if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^…|fallback>
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return label or unescape(target)  # a link: its label, else the address itself

    # re.split with one group: plain text at even places, a token's inside at odd ones.
    parts = TOKEN.split(text)
    decoded = "".join(token(part) if i % 2 else unescape(part) for i, part in enumerate(parts))
    return SlackText(decoded.strip(), tuple(dict.fromkeys(unknown)))
