"""plan index: each agreement's next reminder moment, and the agreements changed since

Revision ID: 0010_index
Revises: 0009_conv
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010_index"
down_revision: str | Sequence[str] | None = "0009_conv"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_next",
        sa.Column("agreement_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("planned_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rules", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_plan_next")),
    )
    op.create_index("ix_plan_next_next_at", "plan_next", ["next_at"])
    op.create_table(
        "plan_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_change")),
    )


def downgrade() -> None:
    op.drop_table("plan_change")
    op.drop_index("ix_plan_next_next_at", table_name="plan_next")
    op.drop_table("plan_next")
