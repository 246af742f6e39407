from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.objectives.models import Objective, name_key
from app.objectives.schemas import ObjectiveCreate, ObjectiveUpdate
from app.posts.models import post_objectives
from app.schemas import patch_fields


def get(session: Session, objective_id: str) -> Objective:
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise NotFound("objective", objective_id)
    return objective


def _ensure_name_free(session: Session, name: str, *, except_id: str | None = None) -> None:
    query = select(Objective.id).where(Objective.name_key == name_key(name))
    if except_id is not None:
        query = query.where(Objective.id != except_id)
    if session.scalar(query) is not None:
        raise Conflict(f"an objective named {name!r} exists already", field="name")


def create(
    session: Session, *, data: ObjectiveCreate, default_timezone: str, now: datetime
) -> Objective:
    _ensure_name_free(session, data.name)
    objective = Objective(
        **data.model_dump(exclude={"timezone"}),
        timezone=data.timezone or default_timezone,
        created_at=now,
        updated_at=now,
    )
    session.add(objective)
    session.flush()
    return objective


def update(
    session: Session, *, objective_id: str, data: ObjectiveUpdate, now: datetime
) -> Objective:
    objective = get(session, objective_id)
    changes = patch_fields(data)
    if "name" in changes:
        _ensure_name_free(session, str(changes["name"]), except_id=objective.id)
    for key, value in changes.items():
        setattr(objective, key, value)
    objective.updated_at = now
    session.flush()
    return objective


def delete(session: Session, *, objective_id: str, now: datetime) -> Objective | None:
    """Delete, or archive when posts use it so their history keeps its objective."""
    objective = get(session, objective_id)
    in_use = session.scalar(select(exists().where(post_objectives.c.objective_id == objective.id)))
    if in_use:
        objective.archived = True
        objective.updated_at = now
        return objective
    session.delete(objective)
    return None


def list_(
    session: Session, *, archived: bool | None, limit: int, offset: int
) -> tuple[Sequence[Objective], int]:
    query = select(Objective)
    if archived is not None:
        query = query.where(Objective.archived == archived)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(query.order_by(Objective.name).limit(limit).offset(offset)).all()
    return items, total
