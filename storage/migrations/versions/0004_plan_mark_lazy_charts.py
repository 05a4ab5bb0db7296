"""plan mark (where the last planning window ended), change log by time; charts drawn on first use

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "plan_mark",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("planned_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_plan_mark")),
    )
    with op.batch_alter_table("chart_image") as batch:
        batch.alter_column("png", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("spec", sa.JSON(), nullable=True))
    op.create_index("ix_change_log_created", "change_log", ["created_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_change_log_created", table_name="change_log")
    op.execute("DELETE FROM chart_image WHERE png IS NULL")
    with op.batch_alter_table("chart_image") as batch:
        batch.drop_column("spec")
        batch.alter_column("png", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("plan_mark")
