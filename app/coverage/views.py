from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query
from sqlalchemy import select

from app.alerts.announce import announce
from app.alerts.models import Alert
from app.alerts.schemas import AlertOut
from app.coverage import service
from app.coverage.schemas import CoverageCellOut, CoverageCheckOut
from app.deps import Editor, NowDep, RuntimeDep, SessionDep, Viewer
from app.errors import FieldProblem, InvalidInput
from app.objectives.models import Objective
from app.schemas import Day

router = APIRouter(tags=["coverage"])
MAX_DAYS = 366


def cell_out(cell: service.Cell, with_ids: bool) -> CoverageCellOut:
    return CoverageCellOut(
        objective_id=cell.objective_id,
        day=cell.day,
        required=cell.required,
        planned=cell.planned,
        published=cell.published,
        covered=cell.covered,
        planned_post_ids=list(cell.planned_ids) if with_ids else None,
        published_post_ids=list(cell.published_ids) if with_ids else None,
    )


@router.get("/coverage")
def coverage(
    session: SessionDep,
    now: NowDep,
    _: Viewer,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    objective_id: str | None = None,
    include: Literal["post_ids"] | None = None,
) -> list[CoverageCellOut]:
    """For each objective and local day from `from` to `to` (both included): required,
    planned, published, covered. Days to come are covered by planned posts, ended days
    by published ones. Archived objectives are listed only when asked for by id."""
    if to < from_:
        raise InvalidInput([FieldProblem(("query", "to"), "must not be before from")])
    if (to - from_).days >= MAX_DAYS:
        raise InvalidInput([FieldProblem(("query", "to"), f"at most {MAX_DAYS} days at a time")])
    query = select(Objective).order_by(Objective.name)
    if objective_id is not None:
        query = query.where(Objective.id == objective_id)
    else:
        query = query.where(Objective.archived.is_(False))
    objectives = list(session.scalars(query))
    if objective_id is not None and not objectives:
        raise InvalidInput(
            [FieldProblem(("query", "objective_id"), f"objective {objective_id} not found")]
        )
    with_ids = include == "post_ids"
    return [
        cell_out(c, with_ids)
        for c in service.cells(session, objectives, from_, to, now=now, with_ids=with_ids)
    ]


@router.get("/coverage/gaps")
def coverage_gaps(
    session: SessionDep, now: NowDep, _: Viewer, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 14
) -> list[CoverageCellOut]:
    """Objective-days from today on with fewer planned posts than required, soonest first."""
    return [cell_out(c, False) for c in service.gaps(session, now=now, days_ahead=days)]


@router.post("/coverage/check")
def coverage_check(
    session: SessionDep, runtime: RuntimeDep, now: NowDep, _: Editor, after: BackgroundTasks
) -> CoverageCheckOut:
    """Run the coverage check now; answer the alerts it opened and resolved."""
    result = service.check(
        session, now=now, lookahead_days=runtime.settings.coverage_lookahead_days
    )
    announce(session, now=now, base_url=runtime.settings.base_url)
    ids = result.opened + result.resolved
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(ids)))}
    after.add_task(runtime.wake_dispatcher)
    return CoverageCheckOut(
        opened=[AlertOut.model_validate(alerts[i]) for i in result.opened],
        resolved=[AlertOut.model_validate(alerts[i]) for i in result.resolved],
    )
