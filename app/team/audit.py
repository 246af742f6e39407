"""The audit trail: who changed what, when, through which token. Append-only.

`record` is the one writer; nothing updates or deletes an entry (no endpoint, no
service function). Values are stored as JSON-ready text; credentials never are: a
change to them is recorded as the field "credentials" with the value "changed".
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from app.spreadsheet import safe_cell
from app.team.models import AuditEntry
from app.users.models import User

# Field names whose values are never written down, whatever the subject.
SECRET_FIELDS = frozenset({"credentials", "password", "token", "token_hash", "password_hash"})
CREDENTIALS_CHANGED = "changed"


class Action(StrEnum):
    create = "create"
    update = "update"
    delete = "delete"
    cancel = "cancel"
    submit = "submit"
    approve = "approve"
    reject = "reject"
    comment = "comment"
    login = "login"
    revoke = "revoke"


class Subject(StrEnum):
    post = "post"
    channel = "channel"
    objective = "objective"
    user = "user"
    token = "token"
    guardrail = "guardrail"


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: times as ISO text, collections as lists."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for each field whose value differs; secrets redacted."""
    changes: dict[str, list[Any]] = {}
    for field in sorted(set(before) | set(after)):
        old, new = _plain(before.get(field)), _plain(after.get(field))
        if old == new:
            continue
        if field in SECRET_FIELDS:
            changes[field] = [None, CREDENTIALS_CHANGED]
        else:
            changes[field] = [old, new]
    return changes


_SEQUENCE = itertools.count()


def sortable_id() -> str:
    """Ids that sort in the order rows were written (wall-clock nanoseconds, this
    process's counter, random): rows of one instant, e.g. under a frozen clock, keep
    their order."""
    return f"{time.time_ns():016x}{next(_SEQUENCE) % 16**6:06x}{secrets.token_hex(5)}"


def entry_row(
    session: Session,
    *,
    actor: User | None,
    action: Action,
    subject: Subject,
    subject_id: str,
    now: datetime,
    changes: Mapping[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """An entry's column values (see `record`), for `record_rows`."""
    return {
        "id": sortable_id(),
        "at": now,
        "actor_id": actor.id if actor is not None else None,
        "actor_email": actor.email if actor is not None else None,
        "token_id": session.info.get("token_id"),
        "action": action.value,
        "subject_type": subject.value,
        "subject_id": subject_id,
        "changes": {
            k: ([None, CREDENTIALS_CHANGED] if k in SECRET_FIELDS else [_plain(x) for x in v])
            for k, v in (changes or {}).items()
        },
    }


def record_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append many entries in one INSERT (a batch of posts)."""
    if rows:
        session.execute(insert(AuditEntry), list(rows))


def record(
    session: Session,
    *,
    actor: User | None,
    action: Action,
    subject: Subject,
    subject_id: str,
    now: datetime,
    changes: Mapping[str, list[Any]] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction: it commits or rolls back with the change.

    The token is the one that authenticated this session's request, if any
    (app.users.service.user_for_token notes it); a web page's change has none."""
    entry = AuditEntry(
        **entry_row(
            session,
            actor=actor,
            action=action,
            subject=subject,
            subject_id=subject_id,
            now=now,
            changes=changes,
        )
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    subject_type: str | None = None
    subject_id: str | None = None
    actor_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def _query(where: AuditFilter) -> Select[Any]:
    query = select(AuditEntry)
    if where.subject_type is not None:
        query = query.where(AuditEntry.subject_type == where.subject_type)
    if where.subject_id is not None:
        query = query.where(AuditEntry.subject_id == where.subject_id)
    if where.actor_id is not None:
        query = query.where(AuditEntry.actor_id == where.actor_id)
    if where.start is not None:
        query = query.where(AuditEntry.at >= where.start)
    if where.end is not None:
        query = query.where(AuditEntry.at < where.end)
    return query


def entries(
    session: Session, where: AuditFilter, *, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """Newest first."""
    query = _query(where)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_email",
    "token_id",
    "action",
    "subject_type",
    "subject_id",
    "changes",
)


def as_csv(rows: Iterable[AuditEntry]) -> str:

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        # safe_cell: a value opened in a spreadsheet is never taken for a formula.
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    row.id,
                    row.at.isoformat(),
                    row.actor_id or "",
                    row.actor_email or "",
                    row.token_id or "",
                    row.action,
                    row.subject_type,
                    row.subject_id,
                    json.dumps(row.changes, sort_keys=True, ensure_ascii=False),
                )
            ]
        )
    return out.getvalue()
