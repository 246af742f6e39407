from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from app.deps import ApiAdmin, ApiViewer, NowDep, RuntimeDep, SessionDep
from app.objectives import service
from app.objectives.schemas import ObjectiveCreate, ObjectiveOut, ObjectiveUpdate
from app.pagination import Page, PageDep
from app.team import trail
from app.team.audit import Subject
from app.users.models import User

router = APIRouter(prefix="/objectives", tags=["objectives"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_objective(
    body: ObjectiveCreate, session: SessionDep, runtime: RuntimeDep, now: NowDep, user: ApiAdmin
) -> ObjectiveOut:
    objective = service.create(
        session, data=body, default_timezone=runtime.settings.timezone, now=now
    )
    out = ObjectiveOut.model_validate(objective)
    _audit(session, user, out.id, None, out, now)
    return out


def _audit(
    session: Session,
    user: User,
    objective_id: str,
    before: ObjectiveOut | None,
    after: ObjectiveOut | None,
    now: datetime,
) -> None:
    trail.changed(
        session,
        user=user,
        subject=Subject.objective,
        subject_id=objective_id,
        before=trail.fields(before) if before is not None else None,
        after=trail.fields(after) if after is not None else None,
        now=now,
    )


@router.get("")
def list_objectives(
    session: SessionDep, page: PageDep, _: ApiViewer, archived: bool | None = None
) -> Page[ObjectiveOut]:
    items, total = service.list_(session, archived=archived, limit=page.limit, offset=page.offset)
    return Page(items=[ObjectiveOut.model_validate(o) for o in items], total=total)


@router.get("/{objective_id}")
def get_objective(objective_id: str, session: SessionDep, _: ApiViewer) -> ObjectiveOut:
    return ObjectiveOut.model_validate(service.get(session, objective_id))


@router.patch("/{objective_id}")
def update_objective(
    objective_id: str, body: ObjectiveUpdate, session: SessionDep, now: NowDep, user: ApiAdmin
) -> ObjectiveOut:
    before = ObjectiveOut.model_validate(service.get(session, objective_id))
    objective = service.update(session, objective_id=objective_id, data=body, now=now)
    out = ObjectiveOut.model_validate(objective)
    _audit(session, user, objective_id, before, out, now)
    return out


@router.delete(
    "/{objective_id}",
    responses={200: {"description": "In use by posts: archived instead", "model": ObjectiveOut}},
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_objective(
    objective_id: str, session: SessionDep, now: NowDep, user: ApiAdmin
) -> Response:
    before = ObjectiveOut.model_validate(service.get(session, objective_id))
    archived = service.delete(session, objective_id=objective_id, now=now)
    after = ObjectiveOut.model_validate(archived) if archived is not None else None
    _audit(session, user, objective_id, before, after, now)
    if archived is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    body = ObjectiveOut.model_validate(archived).model_dump_json()
    return Response(body, status_code=status.HTTP_200_OK, media_type="application/json")
