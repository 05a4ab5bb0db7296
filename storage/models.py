"""SQLAlchemy 2.0 models for the data of design.md §3. Alembic migrations own the schema."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORG_KINDS = ("municipality", "company", "other")
ROLES = ("primary", "secondary")
MEETING_KINDS = ("steering", "working", "other")
KPI_PERIODS = ("monthly", "quarterly", "yearly")
PLATFORMS = ("line", "slack", "local")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))


class AgreementParty(Base):
    __tablename__ = "agreement_party"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreement.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Agreement(Base):
    __tablename__ = "agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    signed_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    renew_term_months: Mapped[int | None] = mapped_column(Integer)
    notice_days: Mapped[int | None] = mapped_column(Integer)
    steering_cadence_months: Mapped[int | None] = mapped_column(Integer)
    working_cadence_months: Mapped[int | None] = mapped_column(Integer)
    slack_channel: Mapped[str | None] = mapped_column(String(50))
    line_group: Mapped[str | None] = mapped_column(String(100))
    short_name: Mapped[str | None] = mapped_column(String(40))  # for choices: 「みなと×アクメ」

    parties: Mapped[list[Organization]] = relationship(
        secondary="agreement_party", order_by="AgreementParty.position", viewonly=True
    )
    contacts: Mapped[list[AgreementContact]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan"
    )
    kpis: Mapped[list[Kpi]] = relationship(back_populates="agreement", order_by="Kpi.id")


class Contact(Base):
    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 事務局: sees and edits every agreement its organization is a party to (on the web)
    secretariat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    organization: Mapped[Organization] = relationship()


class AgreementContact(Base):
    """A contact's role on one side (organization) of an agreement."""

    __tablename__ = "agreement_contact"
    __table_args__ = (UniqueConstraint("agreement_id", "organization_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    agreement: Mapped[Agreement] = relationship(back_populates="contacts")
    contact: Mapped[Contact] = relationship()


class ChatIdentity(Base):
    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    linked_at: Mapped[datetime]
    # Set when the person blocked the bot (LINE unfollow): nothing is pushed there until they
    # add it again; reminders fall back as for an unlinked contact.
    blocked_at: Mapped[datetime | None] = mapped_column(default=None)

    contact: Mapped[Contact] = relationship()


class InviteCode(Base):
    """A one-time code that links a chat account to a contact (`renkei invite`)."""

    __tablename__ = "invite_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Meeting(Base):
    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("agreement_id", "import_key"),
        Index("ix_meeting_agreement_starts", "agreement_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(300))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    import_key: Mapped[str | None] = mapped_column(String(300))


class Kpi(Base):
    __tablename__ = "kpi"
    __table_args__ = (UniqueConstraint("agreement_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20), default="")
    period: Mapped[str] = mapped_column(String(20))
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    target: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    target_date: Mapped[date | None] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(10), default="up")
    aggregation: Mapped[str] = mapped_column(String(10), default="sum")
    entry_due_days: Mapped[int] = mapped_column(Integer, default=14)

    agreement: Mapped[Agreement] = relationship(back_populates="kpis")


class KpiEntry(Base):
    """One value per KPI and period (periods are keyed by their first day)."""

    __tablename__ = "kpi_entry"
    __table_args__ = (UniqueConstraint("kpi_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpi.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    entered_at: Mapped[datetime]


class Activity(Base):
    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_agreement_occurred", "agreement_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    occurred_on: Mapped[date] = mapped_column(Date)
    field: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    platform: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    success: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # 成功事例

    agreement: Mapped[Agreement] = relationship()


class ActionItem(Base):
    __tablename__ = "action_item"
    __table_args__ = (
        UniqueConstraint("agreement_id", "import_key"),
        Index("ix_action_item_agreement_due", "agreement_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None]
    import_key: Mapped[str | None] = mapped_column(String(300))

    owner: Mapped[Contact | None] = relationship()


class Outbox(Base):
    """Notifications waiting to be sent; the dedupe key makes planning idempotent.

    One row is one notification to one recipient. Rows for the same address that are sent in
    one push share a `batch_key`, which is also LINE's `X-Line-Retry-Key`: it is kept across
    retries, so a push whose answer was lost is never shown twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_item_key", "item_key"),
        Index("ix_outbox_batch_key", "batch_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    recipient: Mapped[str] = mapped_column(String(200))  # contact key, slack:C…, line:G…
    platform: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")  # the platform's id
    kind: Mapped[str] = mapped_column(String(20), default="")
    item_key: Mapped[str] = mapped_column(String(120), default="")  # e.g. action_item:3
    agreement_key: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending → sending (claimed) → sent | failed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    send_at: Mapped[datetime]  # the planned moment
    next_attempt_at: Mapped[datetime]
    batch_key: Mapped[str | None] = mapped_column(String(36))
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """A platform event id seen once; the unique constraint makes redelivery a no-op."""

    __tablename__ = "processed_event"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index("ix_processed_event_received_at", "received_at"),  # the clock's purge
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]


class PendingQuestion(Base):
    """A question the bot asked back ("which agreement?"), kept in the database because any
    worker may receive the answer. One open question per person and chat."""

    __tablename__ = "pending_question"
    __table_args__ = (UniqueConstraint("contact_id", "platform", "chat_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    chat_key: Mapped[str] = mapped_column(String(100), default="")  # "" for a 1:1 chat
    command: Mapped[str] = mapped_column(String(50))
    # The options offered: label -> the full text that choosing it stands for.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ChangeLog(Base):
    """What a contact wrote through chat, with the previous state, so `取消` can take it back."""

    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_contact_created", "contact_id", "created_at"),
        Index("ix_change_log_created", "created_at"),  # the planner: what changed since
    )
    undo_window: ClassVar[timedelta] = timedelta(minutes=10)  # 取消 reaches this far back

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    table: Mapped[str] = mapped_column(String(50))  # activity | kpi_entry | meeting | action_item
    row_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # create | update
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the columns an update changed
    summary: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


class ClockLease(Base):
    """Who runs the clock (SQLite; PostgreSQL uses an advisory lock): held until it expires."""

    __tablename__ = "clock_lease"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]


class PlanMark(Base):
    """Where the planner's last window ended: the next tick computes the agreement-wide
    schedules from there on (storage.plan_mark). No row: plan the whole look-back."""

    __tablename__ = "plan_mark"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    planned_until: Mapped[datetime]


class PlanNext(Base):
    """Each agreement's next reminder moment (storage.plan_index): the earliest moment at or
    after `planned_from` of any of its schedules, as the planner last worked them out. A tick
    whose mark is at or after `planned_from` skips the agreement until `next_at`."""

    __tablename__ = "plan_next"
    __table_args__ = (Index("ix_plan_next_next_at", "next_at"),)

    agreement_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    planned_from: Mapped[datetime]
    next_at: Mapped[datetime]
    rules: Mapped[str] = mapped_column(String(16))  # the rules' code it was worked out with


class PlanChange(Base):
    """An agreement whose schedules a write may have moved since its `PlanNext` was worked out
    (written by every ORM flush that touches what the rules read; read and cleared by the
    planner, which then works that agreement out again)."""

    __tablename__ = "plan_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(Integer)


class ReminderState(Base):
    """A reminder a person marked 対応済み (stop) or スヌーズ (postpone); one row per item."""

    __tablename__ = "reminder_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(120), unique=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    snoozed_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    snoozed_by_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))


class ReminderSettings(Base):
    """Per-agreement lead times from the agreement file's `reminders:` block."""

    __tablename__ = "reminder_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreement.id", ondelete="CASCADE"), unique=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChartImage(Base):
    """A digest chart, served to LINE at an unguessable URL and uploaded to Slack."""

    __tablename__ = "chart_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # Drawn when first asked for (LINE fetching it, the Slack upload), from `spec`: planning
    # Monday's digests stays cheap, and a chart nobody opens is never drawn.
    png: Mapped[bytes | None] = mapped_column(LargeBinary)
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    alt: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]


class ClockStatus(Base):
    """What the clock last did, for `/healthz` (the web process cannot see the clock's memory):
    its heartbeat, and how many items the last planning run had to skip."""

    __tablename__ = "clock_status"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    beat_at: Mapped[datetime | None]
    planned_at: Mapped[datetime | None]
    plan_failures: Mapped[int] = mapped_column(Integer, default=0)


class InviteAttempt(Base):
    """Wrong invite codes typed by one chat account: five in a row lock it out for an hour."""

    __tablename__ = "invite_attempt"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class LoginLink(Base):
    """A one-time sign-in link for the web (「ダッシュボード」, `renkei login-link`).

    Only the token's SHA-256 is kept: a leaked database does not sign anyone in."""

    __tablename__ = "login_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    next_path: Mapped[str] = mapped_column(String(300), default="/")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CalendarFeed(Base):
    """A person's iCalendar feed, at an unguessable URL that calendar apps poll."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class Handover(Base):
    """A 担当変更 that takes effect on a later day (「4月1日から」): until `effective_on` both
    see it among what is due; on that day storage.handovers applies it (the role and the open
    tasks listed in `task_ids` pass to the successor)."""

    __tablename__ = "handover"
    __table_args__ = (Index("ix_handover_effective", "applied_at", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    from_contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    to_contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    effective_on: Mapped[date] = mapped_column(Date)
    task_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # open tasks that move
    created_by_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    created_at: Mapped[datetime]
    applied_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


# Numbers shown in chat (No.3) are these tables' ids: on SQLite an id freed by 取消 would be
# handed out again, so they count with AUTOINCREMENT (PostgreSQL sequences never reuse one).
for _numbered in (Activity, Meeting, ActionItem, KpiEntry):
    _numbered.__table__.kwargs["sqlite_autoincrement"] = True  # type: ignore[attr-defined]
