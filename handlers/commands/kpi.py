"""KPI / kpi: enter a value, e.g. 「KPI 参加者数 120」「KPI 2 130 第2四半期」; 「KPI」 alone lists them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from handlers.agreements import NOT_YOURS, mentioned, my_agreements, named_agreement
from handlers.changes import record_create, record_update
from handlers.context import Context
from handlers.messages import Button, Reply
from handlers.numbers import find_counts, parse_number
from handlers.questions import ask
from handlers.text import bar, fmt_number, short_title
from handlers.when import find_date
from storage.fiscal import period_end, period_label, period_start
from storage.kpi_progress import Progress, progress_for
from storage.limits import KPI_VALUE_LIMIT
from storage.models import Agreement, Kpi, KpiEntry

EXAMPLE = "例：「KPI 参加者数 120」「KPI 1 120 第2四半期」"
CONFIRM = "上書き"  # the word a confirmed replacement carries
_CONFIRM_TOKEN = re.compile(rf"(?:^|\s){CONFIRM}(?:\s|$)")


# Units that count things: their values are never negative (a 増減 KPI has its own unit).
COUNTED = frozenset(
    {"人", "名", "名様", "件", "回", "個", "部", "枚", "社", "校", "世帯", "団体", "施設", "店舗", "店", "台", "本", "冊", "点", "組", "チーム", "講座", "席", "食", "袋"}
)  # fmt: skip


def kpi(ctx: Context, args: str) -> Reply:
    agreements, args = named_agreement(ctx, args)
    if agreements is None:
        return Reply(NOT_YOURS)
    kpis = _kpis_of(ctx, agreements)
    if not kpis:
        return Reply("担当している協定にKPIが登録されていません。")
    confirmed = bool(_CONFIRM_TOKEN.search(args))
    args = " ".join(_CONFIRM_TOKEN.sub(" ", args).split())
    if not args:
        return _list(ctx, kpis)
    found = find_date(ctx, args, retry="KPI", command="kpi")
    if isinstance(found, Reply):
        return found
    when_start = found[0].start if found else None
    rest = found[1] if found else args
    name, value = _name_and_value(rest)
    chosen = _match(kpis, name)
    if value is None:
        return Reply(f"入力する値が見つかりませんでした。{EXAMPLE}")
    if abs(value) >= KPI_VALUE_LIMIT:
        return Reply(f"{fmt_number(value)} は大きすぎます（整数14桁まで）。何も記録していません。")
    if not chosen:
        return _ask_which(
            ctx,
            kpis,
            value,
            when_start,
            f"「{name}」に当たるKPIが見つかりません。どのKPIですか？"
            if name
            else "どのKPIの値ですか？",
        )
    if len(chosen) > 1:
        return _ask_which(ctx, chosen, value, when_start, "どのKPIの値ですか？")
    return _enter(ctx, chosen[0], value, when_start, confirmed=confirmed)


def _kpis_of(ctx: Context, agreements: list[Agreement]) -> list[Kpi]:
    ids = [a.id for a in agreements]
    return list(
        ctx.session.scalars(
            select(Kpi).where(Kpi.agreement_id.in_(ids)).order_by(Kpi.agreement_id, Kpi.id)
        )
    )


def _name_and_value(text: str) -> tuple[str, Decimal | None]:
    """「防災訓練参加者数120人」「参加者数 120」「2 130」「120 参加者数」 → (name, value)."""
    counts, rest = find_counts(text)
    if counts:
        last = counts[-1]
        return (last.label or rest).strip(), last.value
    words = text.split()
    numeric = [(i, parse_number(w)) for i, w in enumerate(words)]
    numbers = [(i, n) for i, n in numeric if n is not None]
    if not numbers:
        return text.strip(), None
    value_at, value = numbers[-1]
    name = " ".join(w for i, w in enumerate(words) if i != value_at)
    return name.strip(), value


def _match(kpis: list[Kpi], name: str) -> list[Kpi]:
    if not name:
        return kpis if len(kpis) == 1 else []
    if name.isdigit() and 1 <= int(name) <= len(kpis):
        return [kpis[int(name) - 1]]
    exact = [k for k in kpis if name in (k.name, k.key)]
    if exact:
        return exact
    return [k for k in kpis if name in k.name or k.name in name]


def _ask_which(
    ctx: Context, kpis: list[Kpi], value: Decimal, day: date | None, question: str
) -> Reply:
    # The period the person wrote travels with the answer (「第1四半期」 → its first day).
    when = f" {day:%Y/%m/%d}" if day else ""
    options = [
        Button(k.name[:20], f"KPI {k.key} {fmt_number(value)}{when} 協定:{_key(ctx, k)}")
        for k in kpis
    ]
    return ask(ctx, question, options, command="kpi")


def _key(ctx: Context, kpi: Kpi) -> str:
    return ctx.session.get(Agreement, kpi.agreement_id).key  # type: ignore[union-attr]


def default_period(kpi: Kpi, today: date, entered: set[date]) -> date | None:
    """Without a period: the last closed period while its value is missing (it is the one
    due), else the current one while it is empty; None when both hold a value — which one is
    meant is not obvious, so the person is asked."""
    current = period_start(today, kpi.period)
    last_closed = period_start(current - timedelta(days=1), kpi.period)
    if last_closed not in entered:
        return last_closed
    return current if current not in entered else None


def _ask_period(ctx: Context, kpi: Kpi, value: Decimal, agreement: Agreement) -> Reply:
    current = period_start(ctx.today, kpi.period)
    last_closed = period_start(current - timedelta(days=1), kpi.period)
    options = [
        Button(
            period_label(start, kpi.period)[-20:],
            f"KPI {kpi.key} {fmt_number(value)} {start:%Y/%m/%d} 協定:{agreement.key}",
        )
        for start in (current, last_closed)
    ]
    return ask(
        ctx,
        f"{kpi.name}は今の期間も前の期間も入力済みです。どの期間の値ですか？",
        options,
        command="kpi",
    )


def _enter(ctx: Context, kpi: Kpi, value: Decimal, day: date | None, *, confirmed: bool) -> Reply:
    if value < 0 and kpi.unit in COUNTED:
        # 「KPI 参加者数 -50」: a count of people or events is never below zero: a slip
        return Reply(f"{kpi.name}は{kpi.unit}の数なので、マイナスの値は入力できません。")
    agreement = ctx.session.get(Agreement, kpi.agreement_id)
    assert agreement is not None
    rows = {
        e.period_start: e
        for e in ctx.session.scalars(select(KpiEntry).where(KpiEntry.kpi_id == kpi.id))
    }
    start = period_start(day, kpi.period) if day else default_period(kpi, ctx.today, set(rows))
    if start is None:
        return _ask_period(ctx, kpi, value, agreement)
    label = period_label(start, kpi.period)
    if start > ctx.today:
        return Reply(f"{label}はまだ始まっていません。入力できるのは今の期間までです。")
    ended = start > agreement.ends_on and not agreement.renew_term_months
    if period_end(start, kpi.period) < agreement.starts_on or ended:
        return Reply(f"{label}は協定の期間外です。")
    old = rows.get(start)
    shown = f"{fmt_number(value)}{kpi.unit}"
    if old is not None and old.value == value:
        return Reply(f"{kpi.name}（{label}）は既に {shown} で入力済みです。変更はありません。")
    if old is not None and not confirmed:
        yes = f"KPI {kpi.key} {fmt_number(value)} {start:%Y/%m/%d} 協定:{agreement.key} {CONFIRM}"
        return ask(
            ctx,
            f"{kpi.name}（{label}）には既に {fmt_number(old.value)}{kpi.unit} が入力されています。{shown} に置き換えますか？",
            [Button("はい、置き換える", yes), Button("いいえ", "キャンセル")],
            command="kpi",
        )
    if old is None:
        entry = KpiEntry(
            kpi_id=kpi.id,
            period_start=start,
            value=value,
            entered_by_id=ctx.contact.id,
            entered_at=ctx.now,
        )
        ctx.session.add(entry)
        record_create(ctx, entry, f"KPI {kpi.name} {label} {shown}")
        head = f"{kpi.name}（{label}）に {shown} を記録しました。"
    else:
        before = f"{fmt_number(old.value)}{kpi.unit}"
        record_update(
            ctx,
            old,
            {"value": value, "entered_by_id": ctx.contact.id, "entered_at": ctx.now},
            f"KPI {kpi.name} {label} {before} → {shown}",
        )
        head = f"{kpi.name}（{label}）を更新しました：{before} → {shown}"
    ctx.session.flush()
    progress = progress_for(ctx.session, [kpi], max(ctx.today, period_end(start, kpi.period)))[
        kpi.id
    ]
    return Reply(head, items=(*progress_lines(progress), f"［{short_title(agreement.title)}］"))


def progress_lines(p: Progress) -> tuple[str, ...]:
    kpi = p.kpi
    unit = kpi.unit
    year = (
        f"{p.fiscal_year}年度の実績 {fmt_number(p.year_value)}{unit}"
        if p.year_value is not None
        else f"{p.fiscal_year}年度の実績なし"
    )
    lines = [
        f"{year} / 目標 {fmt_number(kpi.target)}{unit}{'（少ないほど良い）' if kpi.direction == 'down' else ''}",
        f"達成度 {bar(p.ratio)}",
    ]
    if p.latest_start is not None and p.last_year_value is not None and p.yoy is not None:
        lines.append(
            f"前年同期比 {round(p.yoy * 100)}%（前年同期 {fmt_number(p.last_year_value)}{unit}）"
        )
    return tuple(lines)


def progress_summary(
    ctx: Context, text: str = "", *, named: list[Agreement] | None = None
) -> Reply:
    """「KPIどれくらい？」: one progress line per KPI, nothing else (of the agreement the
    question names, if it names one: 「みなと市のKPI」; `named`: those, found by the caller)."""
    agreements = named or my_agreements(ctx)
    if named is None:
        agreements = mentioned(ctx, text, agreements) or agreements
    kpis = _kpis_of(ctx, agreements)
    if not kpis:
        return Reply("担当している協定にKPIが登録されていません。", private=True)
    progress = progress_for(ctx.session, kpis, ctx.today)
    several = len(agreements) > 1
    lines = []
    for k in kpis:
        p = progress[k.id]
        current = f"{fmt_number(p.year_value)}{k.unit}" if p.year_value is not None else "未入力"
        which = f"［{_label_of(agreements, k)}］" if several else ""
        lines.append(
            f"{k.name} {current} / 目標 {fmt_number(k.target)}{k.unit} {bar(p.ratio)}{which}"
        )
    return Reply(
        f"KPIの進み具合（{progress[kpis[0].id].fiscal_year}年度）", items=tuple(lines), private=True
    )


def _label_of(agreements: list[Agreement], kpi: Kpi) -> str:
    return next(short_title(a.title) for a in agreements if a.id == kpi.agreement_id)


def _list(ctx: Context, kpis: list[Kpi]) -> Reply:
    progress = progress_for(ctx.session, kpis, ctx.today)
    items = []
    for n, k in enumerate(kpis, 1):
        p = progress[k.id]
        current = f"{fmt_number(p.year_value)}{k.unit}" if p.year_value is not None else "未入力"
        items.append(
            f"{n}. {k.name}（{_PERIOD_JA[k.period]}）今年度 {current} / 目標 {fmt_number(k.target)}{k.unit} {bar(p.ratio)}"
        )
    return Reply(f"KPI一覧（番号でも入力できます）。{EXAMPLE}", items=tuple(items))


_PERIOD_JA = {"monthly": "月次", "quarterly": "四半期", "yearly": "年度"}
