"""The handover summary (引継ぎ資料) of one agreement: the same content in chat and in Markdown."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.agreement_facts import Facts, Side, activity_total, gather
from handlers.commands.due import KIND_LABELS
from handlers.commands.log import describe_counts
from handlers.text import bar, fmt_date, fmt_datetime, fmt_number
from storage.models import Agreement

KIND_JA = {"municipality": "自治体", "company": "企業", "other": "団体"}


def handover_sections(
    session: Session, agreement: Agreement, *, today: date, tz: ZoneInfo
) -> list[tuple[str, list[str]]]:
    f = gather(session, agreement, today=today, now_tz=tz, recent=10)
    return [
        ("概要", _overview(f, session)),
        (
            "担当窓口",
            [line for side in f.sides for line in _side(side)]
            + [
                f"　担当交代の予定：{fmt_date(day, year=True)}から 正担当 {old} → {new}"
                for day, old, new in f.handovers
            ],
        ),
        ("KPIの状況", _kpis(f) or ["KPIは登録されていません"]),
        (
            "最近の活動",
            [
                f"{fmt_date(a.occurred_on, year=True)} {a.title}{describe_counts(a.counts)}"
                for a in f.recent
            ]
            or ["記録なし"],
        ),
        (
            "未完了のタスク",
            [
                f"期限 {fmt_date(t.due_on, year=True)} {t.title}（{f.owners.get(t.owner_id or 0, '担当未定')}）"
                + ("　⚠期限超過" if t.due_on < today else "")
                for t in f.open_tasks
            ]
            or ["なし"],
        ),
        (
            "今後60日の予定",
            [
                f"{fmt_datetime(i.at, tz, today=today) if i.at else fmt_date(i.on, today=today)} "
                f"{KIND_LABELS.get(i.kind, i.kind)}：{i.title}"
                for i in f.upcoming
                if not i.overdue
            ]
            or ["なし"],
        ),
    ]


def _overview(f: Facts, session: Session) -> list[str]:
    a = f.agreement
    lines = [f"協定名：{a.title}", "締結者：" + "、".join(s.organization for s in f.sides)]
    if a.fields:
        lines.append("連携分野：" + "、".join(a.fields))
    if a.signed_on:
        lines.append(f"締結日：{fmt_date(a.signed_on, year=True)}")
    lines.append(f"有効期間：{fmt_date(a.starts_on, year=True)}〜{fmt_date(f.term_end, year=True)}")
    if a.renew_term_months:
        lines.append(
            f"自動更新：{a.renew_term_months}か月ごと。申し出期限 {fmt_date(f.notice, year=True) if f.notice else '—'}"
        )
    else:
        lines.append("自動更新：なし")
    lines.append(f"これまでの活動記録：{activity_total(session, a)}件")
    return lines


def _side(side: Side) -> list[str]:
    out = [f"{side.organization}（{KIND_JA.get(side.kind, side.kind)}）"]
    for label, who in (("正担当", side.primary), ("副担当", side.secondary)):
        if who is None:
            out.append(f"　{label}：未設定")
            continue
        contact, linked = who
        email = f" <{contact.email}>" if contact.email else ""
        out.append(f"　{label}：{contact.name}{email}{'' if linked else '（チャット未登録）'}")
    return out


def _kpis(f: Facts) -> list[str]:
    lines = []
    for p in f.progress:
        k = p.kpi
        current = f"{fmt_number(p.year_value)}{k.unit}" if p.year_value is not None else "未入力"
        yoy = f"、前年同期比{round(p.yoy * 100)}%" if p.yoy is not None else ""
        base = f"、基準値{fmt_number(k.baseline)}{k.unit}" if k.baseline is not None else ""
        lines.append(
            f"{k.name}：{p.fiscal_year}年度 {current}／目標{fmt_number(k.target)}{k.unit}{base} {bar(p.ratio)}{yoy}"
        )
    return lines


def as_text(title: str, sections: list[tuple[str, list[str]]]) -> str:
    parts = [title]
    for heading, lines in sections:
        parts.append(f"\n【{heading}】")
        parts.extend(lines)
    return "\n".join(parts)


def as_markdown(title: str, sections: list[tuple[str, list[str]]]) -> str:
    parts = [f"# {title}"]
    for heading, lines in sections:
        parts.append(f"\n## {heading}\n")
        parts.extend(
            f"- {line.strip('　')}" if not line.startswith("　") else f"  - {line.strip('　')}"
            for line in lines
        )
    return "\n".join(parts) + "\n"
