"""numbers never reused (SQLite AUTOINCREMENT on numbered tables); scheduled handovers

Revision ID: 0008_writes
Revises: 0007_harden
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008_writes"
down_revision: str | Sequence[str] | None = "0007_harden"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ids shown as No.N in chat. PostgreSQL sequences never hand an id out twice; SQLite
# reuses the highest id once its row is deleted (取消), unless the table is AUTOINCREMENT.
NUMBERED = ("activity", "meeting", "action_item", "kpi_entry")


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        for table in NUMBERED:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("from_contact_id", sa.Integer(), nullable=False),
        sa.Column("to_contact_id", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement.id"],
            name=op.f("fk_handover_agreement_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_handover_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["from_contact_id"], ["contact.id"], name=op.f("fk_handover_from_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["to_contact_id"], ["contact.id"], name=op.f("fk_handover_to_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["contact.id"], name=op.f("fk_handover_created_by_id_contact")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover")),
    )
    op.create_index("ix_handover_effective", "handover", ["applied_at", "effective_on"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_handover_effective", table_name="handover")
    op.drop_table("handover")
    if op.get_bind().dialect.name == "sqlite":
        for table in NUMBERED:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": False}
            ):
                pass
