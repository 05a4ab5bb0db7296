"""The change log behind 取消 (undo): what a contact wrote, and what it replaced."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Numeric, select

from handlers.context import Context
from storage.models import ActionItem, Activity, Base, ChangeLog, Kpi, KpiEntry, Meeting
from storage.types import UTCDateTime

UNDO_WINDOW = ChangeLog.undo_window
TABLES: dict[str, type[Base]] = {
    "activity": Activity,
    "kpi_entry": KpiEntry,
    "meeting": Meeting,
    "action_item": ActionItem,
    "kpi": Kpi,  # a target changed on the web by 事務局
}


def record_create(ctx: Context, row: Base, summary: str) -> None:
    ctx.session.flush()
    _log(ctx, row, "create", None, summary)


def record_update(ctx: Context, row: Base, changes: dict[str, Any], summary: str) -> None:
    """Apply `changes` to `row`, keeping the old values for undo."""
    before = {k: _jsonable(getattr(row, k)) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    ctx.session.flush()
    _log(ctx, row, "update", before, summary)


def undo_last(ctx: Context) -> ChangeLog | None:
    """Take back the sender's own last change if it is recent enough; None when there is none."""
    entry = ctx.session.scalar(
        select(ChangeLog)
        .where(ChangeLog.contact_id == ctx.contact.id, ChangeLog.undone_at.is_(None))
        .where(ChangeLog.created_at >= ctx.now - UNDO_WINDOW)
        .order_by(ChangeLog.created_at.desc(), ChangeLog.id.desc())
        .limit(1)
    )
    if entry is None:
        return None
    model = TABLES[entry.table]
    row = ctx.session.get(model, entry.row_id)
    if row is not None:
        if entry.action == "create":
            ctx.session.delete(row)
        else:
            for key, value in (entry.before or {}).items():
                setattr(row, key, _restore(model, key, value))
    entry.undone_at = ctx.now
    ctx.session.flush()
    return entry


def _log(ctx: Context, row: Base, action: str, before: dict[str, Any] | None, summary: str) -> None:
    ctx.session.add(
        ChangeLog(
            contact_id=ctx.contact.id,
            table=row.__tablename__,
            row_id=row.id,  # type: ignore[attr-defined]
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
