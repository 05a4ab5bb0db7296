"""Which agreement a message is about: named, the only one, or asked back with buttons."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import bindparam, select

from handlers.context import Context
from handlers.messages import Button, Reply
from handlers.questions import ask
from handlers.text import short_title
from handlers.understanding.analyser import words
from storage.due import agreements_of
from storage.models import Agreement, AgreementParty, Organization

# `協定:minato-acme` in a message names the agreement; buttons use it to answer "which one?".
AGREEMENT_TOKEN = re.compile(r"(?:協定|agreement)[:=]([A-Za-z0-9][A-Za-z0-9_.-]*)", re.IGNORECASE)
NOT_YOURS = "その協定は見つからないか、あなたの担当ではありません。"


_MINE = (
    select(Agreement)
    .where(Agreement.id.in_(agreements_of(bindparam("contact_id"))))
    .order_by(Agreement.id)
)  # built once (see storage.due)


def my_agreements(ctx: Context) -> list[Agreement]:
    return list(ctx.session.scalars(_MINE, {"contact_id": ctx.contact.id}))


def named_agreement(
    ctx: Context, args: str, *, by_name: bool = False
) -> tuple[list[Agreement] | None, str]:
    """(the agreements the message may be about, args without the token); None if it names
    an agreement that is not the sender's. `by_name` (reads only): without a token, the
    agreements a word of the message names (「さくら町の状況」), when it names some."""
    mine = my_agreements(ctx)
    match = AGREEMENT_TOKEN.search(args)
    if not match:
        return (mentioned(ctx, args, mine) or mine) if by_name else mine, args
    rest = " ".join((args[: match.start()] + args[match.end() :]).split())
    chosen = [a for a in mine if a.key == match.group(1)]
    return (chosen or None), rest


def pick_agreement(
    ctx: Context, args: str, *, command: str, question: str = "どの協定についてですか？"
) -> tuple[Agreement, str] | Reply:
    """(agreement, args without the token), or a reply that asks which one or refuses."""
    candidates, rest = named_agreement(ctx, args)
    if candidates is None:  # never say whether someone else's agreement exists
        return Reply(NOT_YOURS)
    if len(candidates) == 1:
        return candidates[0], rest
    if not candidates:
        return Reply("担当している協定がまだありません。事務局に登録を依頼してください。")
    labels = choice_labels(candidates)
    options = [
        Button(label=labels[a.id], text=" ".join(f"{command} {rest} 協定:{a.key}".split()))
        for a in candidates
    ]
    return ask(ctx, question, options, command=command)


LABEL_MAX = 20  # LINE cuts quick-reply labels here
_CORPORATE = re.compile(r"株式会社|有限会社|合同会社|一般社団法人|公益財団法人|\(株\)|（株）")
_JOIN = re.compile(r"(?<=[市町村県区府都道])と")


def choice_labels(agreements: list[Agreement]) -> dict[int, str]:
    """What tells each agreement apart in a choice: its `short_name` from the agreement file,
    else its short title while those fit a label and differ, else a derived name
    (「みなと市×アクメ」: the parties without their legal form)."""
    plain = {a.id: short_title(a.title)[:LABEL_MAX] for a in agreements}
    derived = {
        a.id: _JOIN.sub("×", _CORPORATE.sub("", short_title(a.title)), count=1)[:LABEL_MAX]
        for a in agreements
    }
    fits = all(len(short_title(a.title)) <= LABEL_MAX for a in agreements)
    base = plain if fits and len(set(plain.values())) == len(plain) else derived
    if len(set(base.values())) < len(base):  # still alike: the tail tells them apart
        base = {a.id: short_title(a.title)[-LABEL_MAX:] for a in agreements}
    return {a.id: a.short_name or base[a.id] for a in agreements}


# Words in every title, or that name a command: never a name (「協定の状況」 is every agreement).
_NOT_NAMES = {
    "協定", "包括", "連携", "包括連携", "包括連携協定", "連携協定", "株式会社", "予定", "状況",
    "履歴", "活動", "会議", "タスク", "今週", "来週", "担当", "担当者", "連絡先", "窓口", "一覧",
    "先方", "期限", "進捗", "実績", "目標", "kpi", "status", "history", "due", "week",
}  # fmt: skip


def mentioned(ctx: Context, text: str, agreements: Sequence[Agreement]) -> list[Agreement]:
    """The agreements among `agreements` that a word of `text` names — in the title, the key
    or a party's name (「さくら町の予定」「アクメの状況」「sakura」); [] when it names none of
    them or all of them (a CSR office on 50 agreements asks about one by its town)."""
    if len(agreements) < 2 or not text.strip():
        return []
    nouns = {
        w.surface.lower() for w in words(text) if w.pos == "名詞" and len(w.surface) >= 2
    } - _NOT_NAMES
    if not nouns:
        return []
    parties: dict[int, list[str]] = {}
    for agreement_id, name in ctx.session.execute(
        select(AgreementParty.agreement_id, Organization.name)
        .join(Organization, Organization.id == AgreementParty.organization_id)
        .where(AgreementParty.agreement_id.in_([a.id for a in agreements]))
    ):
        parties.setdefault(agreement_id, []).append(name)
    hits = [
        a
        for a in agreements
        if any(n in " ".join([a.title, a.key, *parties.get(a.id, [])]).lower() for n in nouns)
    ]
    return hits if len(hits) < len(agreements) else []
