"""team workflow: channels requiring approval, post comments, audit trail, guardrails,
Twophy awards

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Existing external channels get what a new one would: approval required.
    op.execute("UPDATE channels SET requires_approval = (audience = 'external')")
    op.create_table(
        "post_comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_post_comments_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_comments_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_comments")),
    )
    op.create_index("ix_post_comments_post_id_at", "post_comments", ["post_id", "at"])
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("actor_email", sa.String(length=320), nullable=True),
        sa.Column("token_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"])
    op.create_index("ix_audit_entries_actor", "audit_entries", ["actor_id", "at"])
    op.create_index(
        "ix_audit_entries_subject", "audit_entries", ["subject_type", "subject_id", "at"]
    )
    op.create_table(
        "guardrails",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardrails")),
    )
    op.create_table(
        "twophy_awards",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("post_id", sa.String(length=32), nullable=True),
        sa.Column("published", sa.Integer(), nullable=False),
        sa.Column("awarded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_twophy_awards_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_twophy_awards_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_twophy_awards")),
    )
    op.create_index(op.f("ix_twophy_awards_user_id"), "twophy_awards", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_twophy_awards_user_id"), table_name="twophy_awards")
    op.drop_table("twophy_awards")
    op.drop_table("guardrails")
    op.drop_index("ix_audit_entries_subject", table_name="audit_entries")
    op.drop_index("ix_audit_entries_actor", table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_at"), table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index("ix_post_comments_post_id_at", table_name="post_comments")
    op.drop_table("post_comments")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("requires_approval")
