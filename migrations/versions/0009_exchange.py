"""exchange: calendar feeds (secret iCalendar URLs, one token hash each), tracked links
(objectives' utm and utm_template, a post's utm), per-network versions (a post's versions), X threads and Facebook first comments
(a post's thread and first_comment, the parts of a delivery that are out)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TEMPLATE = "utm_source={platform}&utm_medium=social&utm_campaign={objective_slug}"


def upgrade() -> None:
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("utm", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "utm_template", sa.String(length=500), server_default=TEMPLATE, nullable=False
            )
        )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("utm", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("versions", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("thread", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("first_comment", sa.Text(), nullable=True))
    op.create_table(
        "delivery_parts",
        sa.Column("delivery_id", sa.String(length=32), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("permalink", sa.String(length=2048), nullable=True),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_parts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "index", name=op.f("pk_delivery_parts")),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feeds_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_user_id"))
    op.drop_table("calendar_feeds")
    op.drop_table("delivery_parts")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("first_comment")
        batch_op.drop_column("thread")
        batch_op.drop_column("versions")
        batch_op.drop_column("utm")
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.drop_column("utm_template")
        batch_op.drop_column("utm")
