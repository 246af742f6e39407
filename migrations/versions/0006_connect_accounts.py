"""connecting accounts: OAuth flows under way, token ends of connected channels

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connect_states",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("picks_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_connect_states_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_connect_states_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_states")),
    )
    with op.batch_alter_table("connect_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_states_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_connect_states_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_connect_states_user_id"), ["user_id"], unique=False)
    op.create_table(
        "channel_tokens",
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("access_expires_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_warned_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_tokens_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_tokens")),
    )
    with op.batch_alter_table("channel_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_tokens_access_expires_at"), ["access_expires_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("channel_tokens")
    op.drop_table("connect_states")
