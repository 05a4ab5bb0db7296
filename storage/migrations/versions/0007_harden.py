"""clock status (heartbeat, planner failures) for /healthz; invite code attempts per account; processed events by age

Revision ID: 0007_harden
Revises: 0006_line
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007_harden"
down_revision: str | Sequence[str] | None = "0006_line"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "clock_status",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plan_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_clock_status")),
    )
    op.create_table(
        "invite_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_attempt")),
        sa.UniqueConstraint(
            "platform", "external_id", name=op.f("uq_invite_attempt_platform_external_id")
        ),
    )

    op.create_index("ix_processed_event_received_at", "processed_event", ["received_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_processed_event_received_at", table_name="processed_event")
    op.drop_table("invite_attempt")
    op.drop_table("clock_status")
