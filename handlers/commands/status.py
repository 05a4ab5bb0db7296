"""状況 / status: where each agreement stands — KPIs, activity, meetings, tasks, renewal."""

from __future__ import annotations

from handlers.agreement_facts import Facts, gather
from handlers.agreements import NOT_YOURS, named_agreement
from handlers.context import Context
from handlers.messages import Card, Reply
from handlers.text import bar, fmt_date, fmt_datetime, fmt_number, short_title

DORMANT_DAYS = 60


def status(ctx: Context, args: str) -> Reply:
    agreements, _ = named_agreement(ctx, args, by_name=True)
    if agreements is None:
        return Reply(NOT_YOURS)
    if not agreements:
        return Reply("担当している協定がまだありません。")
    cards = tuple(
        status_card(gather(ctx.session, a, today=ctx.today, now_tz=ctx.tz), ctx) for a in agreements
    )
    return Reply(f"協定の状況（{len(cards)}件）", cards=cards)


def status_card(f: Facts, ctx: Context) -> Card:
    rows: list[tuple[str, str]] = []
    for p in f.progress:
        k = p.kpi
        current = f"{fmt_number(p.year_value)}{k.unit}" if p.year_value is not None else "未入力"
        yoy = f" 前年同期比{round(p.yoy * 100)}%" if p.yoy is not None else ""
        rows.append((k.name, f"{current}／目標{fmt_number(k.target)}{k.unit} {bar(p.ratio)}{yoy}"))
    if f.last_activity is not None:
        days = (ctx.today - f.last_activity.occurred_on).days
        warn = "（しばらく活動がありません）" if days >= DORMANT_DAYS else ""
        rows.append(
            (
                "最後の活動",
                f"{fmt_date(f.last_activity.occurred_on, today=ctx.today)} {f.last_activity.title}（{days}日前）{warn}",
            )
        )
    else:
        rows.append(("最後の活動", "記録なし"))
    rows.append(
        (
            "次の会議",
            f"{fmt_datetime(f.next_meeting.starts_at, ctx.tz, today=ctx.today)} {f.next_meeting.title}"
            if f.next_meeting
            else "未定（「会議」で登録できます）",
        )
    )
    overdue = len(f.overdue_tasks(ctx.today))
    rows.append(
        (
            "タスク",
            f"未完了{len(f.open_tasks)}件" + (f"（うち期限超過{overdue}件）" if overdue else ""),
        )
    )
    for day, old, new in f.handovers:
        rows.append(
            ("担当交代の予定", f"{fmt_date(day, today=ctx.today)}から 正担当 {old} → {new}")
        )
    if f.notice is not None:
        rows.append(
            (
                "更新の申し出期限",
                f"{fmt_date(f.notice, year=True)}（あと{(f.notice - ctx.today).days}日）",
            )
        )
    else:
        rows.append(
            (
                "有効期間の満了",
                f"{fmt_date(f.term_end, year=True)}（あと{(f.term_end - ctx.today).days}日）",
            )
        )
    return Card(short_title(f.agreement.title), tuple(rows))
