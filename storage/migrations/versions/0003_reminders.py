"""reminders: outbox delivery columns, clock lease, reminder state and settings, charts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "chart_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("alt", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chart_image")),
        sa.UniqueConstraint("token", name=op.f("uq_chart_image_token")),
    )
    op.create_table(
        "clock_lease",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_clock_lease")),
    )
    op.create_table(
        "reminder_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_reminder_settings_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_settings")),
        sa.UniqueConstraint("agreement_id", name=op.f("uq_reminder_settings_agreement_id")),
    )
    op.create_table(
        "reminder_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=120), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("snoozed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["contact.id"],
            name=op.f("fk_reminder_state_acknowledged_by_id_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["snoozed_by_id"], ["contact.id"], name=op.f("fk_reminder_state_snoozed_by_id_contact")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_state")),
        sa.UniqueConstraint("item_key", name=op.f("uq_reminder_state_item_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("item_key", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("agreement_key", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("subject", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("batch_key", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_batch_key", ["batch_key"], unique=False)
        batch_op.create_index("ix_outbox_item_key", ["item_key"], unique=False)
    # Rows planned before this revision were meant for their next attempt.
    op.execute("UPDATE outbox SET send_at = next_attempt_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("send_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_item_key")
        batch_op.drop_index("ix_outbox_batch_key")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim_token")
        batch_op.drop_column("batch_key")
        batch_op.drop_column("send_at")
        batch_op.drop_column("subject")
        batch_op.drop_column("agreement_key")
        batch_op.drop_column("item_key")
        batch_op.drop_column("kind")
        batch_op.drop_column("address")

    op.drop_table("reminder_state")
    op.drop_table("reminder_settings")
    op.drop_table("clock_lease")
    op.drop_table("chart_image")
