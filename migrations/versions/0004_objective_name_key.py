"""objectives.name_key: the casefolded name, unique

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:15:00

SQLite's lower() folds ASCII letters only, so "Ärger" and "ärger" passed the
service's lower(name) check and the second insert hit the unique name: a 500.
The key is Python's str.casefold() of the name, filled here for existing rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=300), nullable=True))
    conn = op.get_bind()
    objectives = sa.table("objectives", sa.column("id"), sa.column("name"), sa.column("name_key"))
    taken: set[str] = set()
    for id_, name in conn.execute(sa.select(objectives.c.id, objectives.c.name).order_by("id")):
        key = name.casefold()
        # Names that differ only in non-ASCII case could coexist before; the later
        # ones keep a key of their own until renamed.
        if key in taken:
            key = f"{key} ({id_})"
        taken.add(key)
        conn.execute(objectives.update().where(objectives.c.id == id_).values(name_key=key))
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=300), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_objectives_name_key"), ["name_key"])


def downgrade() -> None:
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_objectives_name_key"), type_="unique")
        batch_op.drop_column("name_key")
