"""engagement figures, their collection schedule, tracked links, weekly digests,
objectives.track_clicks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("track_clicks", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "delivery_metrics",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("fetched_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.Column("reposts", sa.Integer(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("clicks", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_metrics_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_metrics")),
    )
    with op.batch_alter_table("delivery_metrics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_metrics_series", ["delivery_id", "fetched_at"], unique=False
        )
    op.create_table(
        "metric_schedules",
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_metric_schedules_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_metric_schedules")),
    )
    with op.batch_alter_table("metric_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_schedules_due_at"), ["due_at"], unique=False)
    op.create_table(
        "tracked_links",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("bot_clicks", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_tracked_links_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tracked_links")),
        sa.UniqueConstraint("delivery_id", "url", name="uq_tracked_links_delivery_url"),
    )
    with op.batch_alter_table("tracked_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracked_links_delivery_id"), ["delivery_id"], unique=False
        )
    op.create_table(
        "digests",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("post_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_digests_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_digests")),
    )


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_table("tracked_links")
    op.drop_table("metric_schedules")
    op.drop_table("delivery_metrics")
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.drop_column("track_clicks")
