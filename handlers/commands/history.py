"""履歴 / history: the last activities of the sender's agreements."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from handlers.agreements import mentioned, my_agreements
from handlers.commands.log import describe_counts
from handlers.context import Context
from handlers.messages import Reply
from handlers.text import fmt_date, short_title
from storage.due import agreements_of
from storage.models import Activity, Agreement, Contact

LIMIT = 10


# Built once (see storage.due): the contact is bound when it runs.
_LATEST = (
    select(Activity, Agreement.title, Contact.name)
    .join(Agreement, Agreement.id == Activity.agreement_id)
    .outerjoin(Contact, Contact.id == Activity.logged_by_id)
    .where(Activity.agreement_id.in_(agreements_of(bindparam("contact_id"))))
    .order_by(Activity.occurred_on.desc(), Activity.id.desc())
    .limit(LIMIT)
)


_LATEST_OF = _LATEST.where(Activity.agreement_id.in_(bindparam("ids", expanding=True)))


def history(ctx: Context, args: str) -> Reply:
    named = mentioned(ctx, args, my_agreements(ctx)) if args.strip() else []
    if named:  # 「みなと市の活動履歴」: that agreement's
        ids = [a.id for a in named]
        rows = ctx.session.execute(_LATEST_OF, {"contact_id": ctx.contact.id, "ids": ids}).all()
    else:
        rows = ctx.session.execute(_LATEST, {"contact_id": ctx.contact.id}).all()
    if not rows:
        return Reply("まだ活動の記録がありません。例：「活動 11/20 防災訓練 参加者45名」")
    items = tuple(
        f"{fmt_date(a.occurred_on, today=ctx.today)} {a.title}{describe_counts(a.counts)}"
        f"［{short_title(title)}］（{who or '不明'}）"
        for a, title, who in rows
    )
    return Reply(f"最近の活動（{len(rows)}件）", items=items)
