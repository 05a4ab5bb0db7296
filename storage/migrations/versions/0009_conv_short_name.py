"""agreement.short_name: what tells an agreement apart in a choice (「みなと×アクメ」)

Revision ID: 0009_conv
Revises: 0008_writes
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009_conv"
down_revision: str | Sequence[str] | None = "0008_writes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.add_column(sa.Column("short_name", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agreement") as batch:
        batch.drop_column("short_name")
