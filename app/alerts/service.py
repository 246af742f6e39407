"""The alert lifecycle: open once per subject, acknowledge, resolve."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertKind, AlertStatus
from app.db import new_id
from app.errors import Conflict, NotFound
from app.users.models import User

log = logging.getLogger(__name__)
UNRESOLVED = text("resolved_at IS NULL")


def open_alert(
    session: Session,
    *,
    kind: AlertKind,
    key: str,
    message: str,
    now: datetime,
    objective_id: str | None = None,
    day: date | None = None,
    post_id: str | None = None,
    delivery_id: str | None = None,
    channel_id: str | None = None,
) -> str | None:
    """Open an alert unless one is already unresolved for this key; return the new id.

    The partial unique index on dedupe_key makes this safe with any number of
    processes: the losing INSERT does nothing instead of failing.
    """
    dedupe_key = f"{kind}:{key}"
    values = {
        "id": new_id(),
        "kind": kind.value,
        "status": AlertStatus.open.value,
        "dedupe_key": dedupe_key,
        "message": message,
        "objective_id": objective_id,
        "day": day,
        "post_id": post_id,
        "delivery_id": delivery_id,
        "channel_id": channel_id,
        "opened_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"], index_where=UNRESOLVED)
        .returning(Alert.id)
    )
    opened: str | None = session.scalar(statement)
    if opened is not None:
        subject = {
            "objective_id": objective_id,
            "day": day,
            "post_id": post_id,
            "delivery_id": delivery_id,
            "channel_id": channel_id,
        }
        log.info(
            "alert opened: %s",
            message,
            extra={
                "alert_id": opened,
                "kind": kind.value,
                **{k: v for k, v in subject.items() if v is not None},
            },
        )
    return opened


def resolve_alert(session: Session, *, kind: AlertKind, key: str, now: datetime) -> str | None:
    """Resolve the unresolved alert for this key, if any; return its id."""
    return session.scalar(
        update(Alert)
        .where(Alert.dedupe_key == f"{kind}:{key}", Alert.resolved_at.is_(None))
        .values(status=AlertStatus.resolved.value, resolved_at=now)
        .returning(Alert.id)
    )


def resolve_alerts(session: Session, *, keys: list[tuple[AlertKind, str]], now: datetime) -> None:
    """Resolve the unresolved alerts for many (kind, key) pairs in one statement."""
    if keys:
        session.execute(
            update(Alert)
            .where(
                Alert.dedupe_key.in_([f"{kind}:{key}" for kind, key in keys]),
                Alert.resolved_at.is_(None),
            )
            .values(status=AlertStatus.resolved.value, resolved_at=now)
            .execution_options(synchronize_session=False)
        )


def acknowledge(session: Session, *, alert_id: str, user: User, now: datetime) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    if alert.status == AlertStatus.resolved:
        raise Conflict("the alert is resolved already")
    if alert.status == AlertStatus.open:
        alert.status = AlertStatus.acknowledged.value
        alert.acknowledged_at = now
        alert.acknowledged_by_id = user.id
    session.flush()
    return alert


def list_(
    session: Session, *, status: AlertStatus | None, kind: AlertKind | None, limit: int, offset: int
) -> tuple[Sequence[Alert], int]:
    query = select(Alert)
    if status is not None:
        query = query.where(Alert.status == status.value)
    if kind is not None:
        query = query.where(Alert.kind == kind.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    # Unresolved first, newest first within each group.
    items = session.scalars(
        query.order_by(Alert.resolved_at.is_not(None), Alert.opened_at.desc(), Alert.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return items, total
