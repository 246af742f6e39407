"""The field a database constraint protects, to answer its violation with a 409.

The services check what they can before writing; a violation that still reaches the
database (two requests racing, rows from before a rule existed) names its constraint
(PostgreSQL) or its table and columns (SQLite), which map back to a request field.
"""

from __future__ import annotations

import re

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint
from sqlalchemy.exc import IntegrityError

from app.db import Base

# A column that only mirrors another for the constraint's sake answers as that one.
MIRRORS = {"name_key": "name", "token_hash": "token", "sha256": "file"}
_SQLITE_COLUMNS = re.compile(r"constraint failed: (\w+)\.(\w+)")


def _fields_by_constraint() -> dict[str, str]:
    fields: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint | ForeignKeyConstraint) and isinstance(
                constraint.name, str
            ):
                column = next(iter(constraint.columns)).name
                fields[constraint.name] = MIRRORS.get(column, column)
    return fields


def violated_field(exc: IntegrityError) -> str | None:
    """The request field behind the violated constraint, when it can be told."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if isinstance(name, str):
        return _fields_by_constraint().get(name)
    found = _SQLITE_COLUMNS.search(str(exc.orig))
    return MIRRORS.get(found.group(2), found.group(2)) if found else None
