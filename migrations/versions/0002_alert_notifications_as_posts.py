"""alert notifications as posts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:54:40.702489
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="post", nullable=False)
        )
        batch_op.add_column(sa.Column("alert_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("alert_event", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint("uq_posts_alert_event", ["alert_id", "alert_event"])
        batch_op.create_foreign_key(
            batch_op.f("fk_posts_alert_id_alerts"),
            "alerts",
            ["alert_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_posts_alert_id_alerts"), type_="foreignkey")
        batch_op.drop_constraint("uq_posts_alert_event", type_="unique")
        batch_op.drop_column("alert_event")
        batch_op.drop_column("alert_id")
        batch_op.drop_column("kind")
