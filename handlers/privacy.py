"""Which answers may be shown in a group (LINE group or room, Slack channel): the one rule.

An answer is shown in the group only when it is not marked private, shows no e-mail address,
and everything the sender can see is tied to that group: the group is the `line_group` /
`slack_channel` of every agreement the sender is a contact of. Otherwise it goes to the sender
alone (LINE: a 1:1 push with a one-line note in the group; Slack: an ephemeral message).
Commands about the group itself (tying it to an agreement, a refused 登録) answer in the group.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy.orm import Session

from handlers.commands.group import tied_agreements
from handlers.messages import Incoming, Reply
from handlers.registry import match
from handlers.text import normalize
from storage.due import agreements_of
from storage.identities import contact_for

PRIVATE_NOTE = "回答は1対1のトークでお送りしました。"
# Contact details are the person's own business whatever the command (引継ぎ lists e-mails).
# Bounded runs: linear in the answer's length, whatever it holds.
EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
FOR_THE_GROUP = frozenset({"group", "link"})  # their answers hold nothing of an agreement's data


def for_chat(session: Session, incoming: Incoming, reply: Reply | None) -> Reply | None:
    """`reply`, marked private when it may not be shown where `incoming` was said."""
    if reply is None or reply.private or incoming.chat_id is None:
        return reply
    found = match(normalize(incoming.text))
    if found is not None and found[0].name in FOR_THE_GROUP:
        return reply
    contact = contact_for(session, platform=incoming.platform, external_id=incoming.user_id)
    if contact is not None and not EMAIL.search(reply.as_text()):
        tied = tied_agreements(session, platform=incoming.platform, chat_id=incoming.chat_id)
        if tied and set(session.scalars(agreements_of(contact.id))) <= tied:
            return reply
    return replace(reply, private=True)
