"""The change log behind 取消 (undo): what a contact wrote, and what it replaced. One command may
write several rows (a 担当変更 moves a role and tasks): its second and later entries are logged
as joined (action 「update+」…), and 取消 takes back the whole command."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, select

from handlers.context import Context
from storage.models import (
    ActionItem,
    Activity,
    Agreement,
    AgreementContact,
    Base,
    ChangeLog,
    Contact,
    Handover,
    InviteCode,
    Kpi,
    KpiEntry,
    Meeting,
)
from storage.types import UTCDateTime

UNDO_WINDOW = ChangeLog.undo_window
TABLES: dict[str, type[Base]] = {
    "activity": Activity,
    "kpi_entry": KpiEntry,
    "meeting": Meeting,
    "action_item": ActionItem,
    "agreement_contact": AgreementContact,
    "contact": Contact,
    "invite_code": InviteCode,
    "handover": Handover,
    # written on the web by 事務局 (bot/web/manage.py)
    "kpi": Kpi,
    "agreement": Agreement,
}


JOINED = "+"  # suffix of an entry that belongs to the command of the entry before it


def record_create(ctx: Context, row: Base, summary: str, *, joined: bool = False) -> None:
    ctx.session.flush()
    _log(ctx, row, "create" + JOINED * joined, None, summary)


def record_update(
    ctx: Context, row: Base, changes: dict[str, Any], summary: str, *, joined: bool = False
) -> None:
    """Apply `changes` to `row`, keeping the old values for undo."""
    before = {k: _jsonable(getattr(row, k)) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    ctx.session.flush()
    _log(ctx, row, "update" + JOINED * joined, before, summary)


def record_delete(ctx: Context, row: Base, summary: str, *, joined: bool = False) -> None:
    """Delete `row`, keeping all its columns so 取消 can put it back."""
    columns = row.__table__.columns  # type: ignore[attr-defined]
    before = {c.key: _jsonable(getattr(row, c.key)) for c in columns}
    row_id = row.id  # type: ignore[attr-defined]
    ctx.session.delete(row)
    ctx.session.flush()
    _log(ctx, row, "delete" + JOINED * joined, before, summary, row_id=row_id)


def undo_last(ctx: Context) -> ChangeLog | None:
    """Take back the sender's own last command if it is recent enough (every entry it logged,
    newest first); the entry that names it, or None when there is none."""
    entries = _last_command(ctx)
    for entry in entries:
        _undo(ctx, entry)
    return entries[-1] if entries else None  # the one logged first names it (「担当変更 …」)


def last_entry(ctx: Context) -> ChangeLog | None:
    """What 取消 would take back now (its naming entry), without taking it back."""
    entries = _last_command(ctx)
    return entries[-1] if entries else None


def _last_command(ctx: Context) -> list[ChangeLog]:
    """The entries of the sender's last command within UNDO_WINDOW, newest first."""
    last = ctx.session.scalar(
        select(ChangeLog)
        .where(ChangeLog.contact_id == ctx.contact.id, ChangeLog.undone_at.is_(None))
        .where(ChangeLog.created_at >= ctx.now - UNDO_WINDOW)
        .order_by(ChangeLog.created_at.desc(), ChangeLog.id.desc())
        .limit(1)
    )
    if last is None:
        return []
    entries = [last]
    while entries[-1].action.endswith(JOINED):
        previous = ctx.session.scalar(
            select(ChangeLog)
            .where(
                ChangeLog.contact_id == ctx.contact.id,
                ChangeLog.undone_at.is_(None),
                ChangeLog.id < entries[-1].id,
            )
            .order_by(ChangeLog.id.desc())
            .limit(1)
        )
        if previous is None:
            break
        entries.append(previous)
    return entries


def _undo(ctx: Context, entry: ChangeLog) -> None:
    model = TABLES[entry.table]
    action = entry.action.removesuffix(JOINED)
    if action == "delete":
        values = {k: _restore(model, k, v) for k, v in (entry.before or {}).items()}
        ctx.session.add(model(**values))
    else:
        row = ctx.session.get(model, entry.row_id)
        if row is not None:
            if action == "create":
                ctx.session.delete(row)
            else:
                for key, value in (entry.before or {}).items():
                    setattr(row, key, _restore(model, key, value))
    entry.undone_at = ctx.now
    ctx.session.flush()


def _log(
    ctx: Context,
    row: Base,
    action: str,
    before: dict[str, Any] | None,
    summary: str,
    *,
    row_id: int | None = None,
) -> None:
    ctx.session.add(
        ChangeLog(
            contact_id=ctx.contact.id,
            table=row.__tablename__,
            row_id=row.id if row_id is None else row_id,  # type: ignore[attr-defined]
            action=action,
            before=before,
            summary=summary[:300],
            created_at=ctx.now,
            undone_at=None,
        )
    )


def _jsonable(value: Any) -> Any:
    """Dates, datetimes and decimals as ISO strings / text, so the log is plain JSON."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and not isinstance(value, (str, int, float, bool, dict, list)):
        return str(value)
    return value


def _restore(model: type[Base], key: str, value: Any) -> Any:
    """Turn a logged JSON value back into the column's Python type."""
    if value is None:
        return None
    column_type = model.__table__.c[key].type  # type: ignore[attr-defined]
    if isinstance(column_type, UTCDateTime | DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, Numeric):
        return Decimal(value)
    return value
