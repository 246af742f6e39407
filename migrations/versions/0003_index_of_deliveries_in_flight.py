"""index of deliveries in flight

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:41:49.169709
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_in_flight",
            ["channel_id"],
            unique=False,
            sqlite_where=sa.text("status = 'publishing'"),
            postgresql_where=sa.text("status = 'publishing'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_deliveries_in_flight",
            sqlite_where=sa.text("status = 'publishing'"),
            postgresql_where=sa.text("status = 'publishing'"),
        )
