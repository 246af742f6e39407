from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.deps import ApiAdmin, ApiViewer, NowDep, RuntimeDep, SessionDep
from app.objectives import service
from app.objectives.schemas import ObjectiveCreate, ObjectiveOut, ObjectiveUpdate
from app.pagination import Page, PageDep

router = APIRouter(prefix="/objectives", tags=["objectives"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_objective(
    body: ObjectiveCreate, session: SessionDep, runtime: RuntimeDep, now: NowDep, _: ApiAdmin
) -> ObjectiveOut:
    objective = service.create(
        session, data=body, default_timezone=runtime.settings.timezone, now=now
    )
    return ObjectiveOut.model_validate(objective)


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
    objective_id: str, body: ObjectiveUpdate, session: SessionDep, now: NowDep, _: ApiAdmin
) -> ObjectiveOut:
    objective = service.update(session, objective_id=objective_id, data=body, now=now)
    return ObjectiveOut.model_validate(objective)


@router.delete(
    "/{objective_id}",
    responses={200: {"description": "In use by posts: archived instead", "model": ObjectiveOut}},
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_objective(objective_id: str, session: SessionDep, now: NowDep, _: ApiAdmin) -> Response:
    archived = service.delete(session, objective_id=objective_id, now=now)
    if archived is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    body = ObjectiveOut.model_validate(archived).model_dump_json()
    return Response(body, status_code=status.HTTP_200_OK, media_type="application/json")
