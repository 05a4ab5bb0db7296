"""The weekly digest and the review (総合評価) summary, composed when they are planned.

Per agreement (to its Slack channel / LINE group) and per person across their agreements: last
week's activities, KPI progress (target vs current, 前年同期比), overdue items, the next two
weeks, and a KPI chart. A primary also learns which contacts on their side cannot be reached.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chart import chart_spec
from bot.chart_links import new_chart
from handlers.commands.due import KIND_LABELS
from handlers.text import bar, fmt_date, fmt_datetime, fmt_number, short_title
from reminders.items import running_on
from storage.due import DueItem, agreements_of, due_for_agreements
from storage.fiscal import fiscal_year
from storage.kpi_progress import Progress, progress_for
from storage.models import Activity, Agreement, AgreementContact, ChatIdentity, Contact, Kpi
from storage.progress import term_summary

MAX_LINES = 6  # per section of a card; the rest is counted
CardRows = tuple[str, list[tuple[str, str]]]


@dataclass
class DigestCache:
    """What one planning run's digests share: an agreement's card and KPI progress are the
    same in its channel's digest and in each of its people's, and equal charts are one."""

    cards: dict[int, CardRows] = field(default_factory=dict)
    progress: dict[int, list[Progress]] = field(default_factory=dict)
    charts: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # by content
    new_charts: list[dict[str, Any]] = field(default_factory=list)  # rows to insert


def payload(
    text: str,
    *,
    items: Sequence[str] = (),
    buttons: Sequence[tuple[str, str]] = (),
    cards: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
    image: str | None = None,
    image_alt: str = "",
) -> dict[str, Any]:
    """A `Reply` as JSON for the outbox (rebuilt by the deliverer, identical on every retry)."""
    return {
        "text": text,
        "items": list(items),
        "buttons": [{"label": label, "text": t} for label, t in buttons],
        "cards": [{"title": title, "rows": [list(r) for r in rows]} for title, rows in cards],
        "image": image,
        "image_alt": image_alt,
    }


def agreement_digest(
    session: Session,
    agreement: Agreement,
    *,
    subject: str,
    now: datetime,
    tz: ZoneInfo,
    cache: DigestCache,
) -> dict[str, Any]:
    today = now.astimezone(tz).date()
    token, alt = _chart(session, [agreement], today=today, now=now, cache=cache)
    return payload(
        f"{subject}\n{agreement.title}の1週間です。",
        cards=[_card(session, agreement, today=today, tz=tz, cache=cache)],
        image=token,
        image_alt=alt,
    )


def person_digest(
    session: Session,
    contact: Contact,
    *,
    subject: str,
    now: datetime,
    tz: ZoneInfo,
    cache: DigestCache,
) -> dict[str, Any]:
    today = now.astimezone(tz).date()
    agreements = [
        a
        for a in session.scalars(
            select(Agreement)
            .where(Agreement.id.in_(agreements_of(contact.id)))
            .order_by(Agreement.id)
        )
        if running_on(a, today)
    ]
    token, alt = _chart(session, agreements, today=today, now=now, cache=cache)
    lines = [subject, f"{contact.name}さんが担当する協定{len(agreements)}件の1週間です。"]
    unreachable = _unreachable(session, contact, agreements)
    if unreachable:
        lines.append("")
        lines.append("連絡が届いていない担当者（LINE/Slack 未登録、またはボットをブロック中）：")
        lines += [f"・{u}" for u in unreachable]
    return payload(
        "\n".join(lines),
        cards=[_card(session, a, today=today, tz=tz, cache=cache) for a in agreements],
        image=token,
        image_alt=alt,
    )


def _card(
    session: Session, agreement: Agreement, *, today: date, tz: ZoneInfo, cache: DigestCache
) -> CardRows:
    if agreement.id not in cache.cards:
        prepare_cards(session, [agreement], today=today, tz=tz, cache=cache)
    return cache.cards[agreement.id]


def prepare_digests(
    session: Session,
    agreement_keys: set[str],
    people: set[str],
    *,
    now: datetime,
    tz: ZoneInfo,
    cache: DigestCache,
) -> None:
    """Before composing a run's digests: the cards of every agreement they will show."""
    if not agreement_keys and not people:
        return
    today = now.astimezone(tz).date()
    ids: set[int] = set()
    keys, persons = sorted(agreement_keys), sorted(people)
    for i in range(0, max(len(keys), len(persons)), 2000):  # bounded IN lists
        ids |= set(
            session.scalars(select(Agreement.id).where(Agreement.key.in_(keys[i : i + 2000])))
        )
        ids |= set(
            session.scalars(
                select(AgreementContact.agreement_id)
                .join(Contact, Contact.id == AgreementContact.contact_id)
                .where(Contact.key.in_(persons[i : i + 2000]))
            )
        )
    agreements = [
        a
        for a in session.scalars(select(Agreement).where(Agreement.id.in_(sorted(ids))))
        if running_on(a, today)
    ]
    prepare_cards(session, agreements, today=today, tz=tz, cache=cache)


def prepare_cards(
    session: Session,
    agreements: Sequence[Agreement],
    *,
    today: date,
    tz: ZoneInfo,
    cache: DigestCache,
) -> None:
    """The cards of many agreements with a few queries (Monday: every agreement's card is in
    its channel's digest and in each of its people's), a thousand agreements at a time so the
    rows read for them are never all in memory at once."""
    agreements = [a for a in agreements if a.id not in cache.cards]
    for i in range(0, len(agreements), 1000):
        _prepare_cards(session, agreements[i : i + 1000], today=today, tz=tz, cache=cache)


def _prepare_cards(
    session: Session,
    agreements: Sequence[Agreement],
    *,
    today: date,
    tz: ZoneInfo,
    cache: DigestCache,
) -> None:
    ids = [a.id for a in agreements]
    last_monday = today - timedelta(days=today.weekday() + 7)
    done: dict[int, list[str]] = {i: [] for i in ids}
    for a in session.scalars(
        select(Activity)
        .where(
            Activity.agreement_id.in_(ids),
            Activity.occurred_on >= last_monday,
            Activity.occurred_on <= last_monday + timedelta(days=6),
        )
        .order_by(Activity.occurred_on, Activity.id)
    ):
        done[a.agreement_id].append(f"{fmt_date(a.occurred_on)} {a.title}{_counts(a.counts)}")
    _progress(session, agreements, today, cache)
    due: dict[str, list[DueItem]] = {a.key: [] for a in agreements}
    for item in due_for_agreements(
        session, agreement_ids=ids, start=today, end=today + timedelta(days=13), tz=tz
    ):
        due[item.agreement_key].append(item)
    for agreement in agreements:
        items = due[agreement.key]
        progress = [_progress_line(p) for p in cache.progress[agreement.id]]
        overdue = [_due_line(i.kind, i.title, i.on, None, tz, today) for i in items if i.overdue]
        ahead = [_due_line(i.kind, i.title, i.on, i.at, tz, today) for i in items if not i.overdue]
        cache.cards[agreement.id] = (
            short_title(agreement.title),
            [
                ("先週の活動", _lines(done[agreement.id], "記録なし")),
                (f"KPI（{fiscal_year(today)}年度）", _lines(progress, "KPIなし")),
                ("期限超過", _lines(overdue, "なし")),
                ("今後2週間", _lines(ahead, "なし")),
            ],
        )


def _lines(lines: list[str], empty: str) -> str:
    if not lines:
        return empty
    shown = lines[:MAX_LINES]
    rest = len(lines) - len(shown)
    return "\n".join(shown + ([f"ほか{rest}件"] if rest else []))


def _counts(counts: dict[str, Any]) -> str:
    return "".join(
        f" {label}{fmt_number(c.get('value'))}{c.get('unit', '')}"
        for label, c in (counts or {}).items()
        if isinstance(c, dict)
    )


def _due_line(
    kind: str, title: str, on: date, at: datetime | None, tz: ZoneInfo, today: date
) -> str:
    # with the year when not this fiscal year: a year-old overdue item is not this year's 3/10
    when = fmt_datetime(at, tz, today=today) if at else fmt_date(on, today=today)
    return f"{when} {KIND_LABELS.get(kind, kind)}：{title}"


def _progress_line(p: Progress) -> str:
    """The same figures as the chat's 状況: this fiscal year against the target, 前年同期比."""
    k = p.kpi
    current = f"{fmt_number(p.year_value)}{k.unit}" if p.year_value is not None else "未入力"
    yoy = f" 前年同期比{round(p.yoy * 100)}%" if p.yoy is not None else ""
    return f"{k.name}：{current}／目標{fmt_number(k.target)}{k.unit} {bar(p.ratio)}{yoy}"


def _progress(
    session: Session,
    agreements: Sequence[Agreement],
    today: date,
    cache: DigestCache | None = None,
) -> list[Progress]:
    cache = cache if cache is not None else DigestCache()
    missing = [a.id for a in agreements if a.id not in cache.progress]
    if missing:
        kpis = list(
            session.scalars(select(Kpi).where(Kpi.agreement_id.in_(missing)).order_by(Kpi.id))
        )
        found = progress_for(session, kpis, today)
        for agreement_id in missing:
            cache.progress[agreement_id] = []
        for k in kpis:
            cache.progress[k.agreement_id].append(found[k.id])
    return sorted((p for a in agreements for p in cache.progress[a.id]), key=lambda p: p.kpi.id)


def _chart(
    session: Session,
    agreements: Sequence[Agreement],
    *,
    today: date,
    now: datetime,
    cache: DigestCache,
) -> tuple[str | None, str]:
    """One chart per picture, shared by everyone who gets the same one; drawn when first
    shown (bot.charts_web.chart_png, in the web process), so planning Monday's digests draws nothing."""
    progress = _progress(session, agreements, today, cache)
    alt = "KPI達成率：" + "、".join(
        f"{p.kpi.name} {p.ratio:.0%}" for p in progress if p.ratio is not None
    )
    spec = chart_spec(progress, title=f"KPI達成率（{fiscal_year(today)}年度）")
    content = json.dumps(spec, ensure_ascii=False, sort_keys=True)
    if content not in cache.charts:
        if spec is None:
            cache.charts[content] = (None, alt)
        else:
            row = new_chart(spec, alt=alt, now=now)
            cache.new_charts.append(row)
            cache.charts[content] = (row["token"], alt)
    return cache.charts[content]


def _unreachable(session: Session, contact: Contact, agreements: Sequence[Agreement]) -> list[str]:
    """Contacts on this person's side of the agreements they are primary for, with no chat
    account that takes pushes (none linked, or the bot blocked): their reminders only reach
    the local log."""
    primary_of = set(
        session.scalars(
            select(AgreementContact.agreement_id).where(
                AgreementContact.contact_id == contact.id, AgreementContact.role == "primary"
            )
        )
    )
    ids = [a.id for a in agreements if a.id in primary_of]
    if not ids:
        return []
    rows = session.execute(
        select(Contact, Agreement.title)
        .join(AgreementContact, AgreementContact.contact_id == Contact.id)
        .join(Agreement, Agreement.id == AgreementContact.agreement_id)
        .where(
            AgreementContact.agreement_id.in_(ids),
            Contact.organization_id == contact.organization_id,
            Contact.id != contact.id,  # they know about themselves: the digest reached them
            Contact.active.is_(True),
            ~select(ChatIdentity.id)
            .where(ChatIdentity.contact_id == Contact.id, ChatIdentity.blocked_at.is_(None))
            .exists(),
        )
        .order_by(Contact.key, Agreement.id)
    ).all()
    found: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for other, title in rows:
        found.setdefault(other.key, []).append(short_title(title))
        names[other.key] = other.name
    blocked = set(
        session.scalars(
            select(Contact.key)
            .join(ChatIdentity, ChatIdentity.contact_id == Contact.id)
            .where(Contact.key.in_(found), ChatIdentity.blocked_at.is_not(None))
        )
    )
    return [
        f"{names[k]}（{'、'.join(titles)}）："
        + (
            "LINE でボットがブロックされています（友だち追加し直すと届きます）"
            if k in blocked
            else f"登録コードは「renkei invite {k}」で発行できます"
        )
        for k, titles in found.items()
    ]


def review_summary(
    session: Session, agreement: Agreement, *, term_end: date, now: datetime, tz: ZoneInfo
) -> list[str]:
    """What the review (総合評価) starts from: KPI results and activity counts of the term."""
    today = now.astimezone(tz).date()
    if agreement.renew_term_months and term_end != agreement.ends_on:
        start = term_end - relativedelta(months=agreement.renew_term_months) + timedelta(days=1)
    else:
        start = agreement.starts_on
    lines = [
        f"KPI（{fiscal_year(today)}年度）：" + _progress_line(p)
        for p in _progress(session, [agreement], today)
    ]
    counts = term_summary(session, agreement, lo=start, hi=min(today, term_end), tz=tz)
    fields = "、".join(f"{f} {n}件" for f, n in counts.by_field.most_common())
    lines.append(
        f"活動記録（{fmt_date(start, year=True)}〜）：{counts.activities}件"
        + (f"（{fields}）" if fields else "")
        + f"、会議 {counts.meetings}回"
    )
    return lines
