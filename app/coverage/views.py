from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from sqlalchemy import func, select

from app.alerts.announce import Times, announce
from app.alerts.models import Alert
from app.alerts.schemas import AlertOut
from app.coverage import service
from app.coverage.schemas import CoverageCellOut, CoverageCheckOut
from app.deps import ApiEditor, ApiViewer, NowDep, RuntimeDep, SessionDep
from app.errors import FieldProblem, InvalidInput
from app.objectives.models import Objective
from app.pagination import MAX_OFFSET
from app.schemas import Day
from app.team.pending import pending_counts

router = APIRouter(tags=["coverage"])
MAX_DAYS = 366
# Cells (objectives x days) one answer may hold; more objectives than fit are paged.
MAX_CELLS = 20_000


def cell_out(cell: service.Cell, with_ids: bool, pending: int = 0) -> CoverageCellOut:
    return CoverageCellOut(
        objective_id=cell.objective_id,
        day=cell.day,
        required=cell.required,
        planned=cell.planned,
        published=cell.published,
        covered=cell.covered,
        pending=pending,
        planned_post_ids=list(cell.planned_ids) if with_ids else None,
        published_post_ids=list(cell.published_ids) if with_ids else None,
    )


@router.get("/coverage")
def coverage(
    request: Request,
    response: Response,
    session: SessionDep,
    now: NowDep,
    _: ApiViewer,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    objective_id: str | None = None,
    include: Literal["post_ids"] | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[CoverageCellOut]:
    """For each objective and local day from `from` to `to` (both included): required,
    planned, published, covered. Days to come are covered by planned posts, ended days
    by published ones. Archived objectives are listed only when asked for by id.

    One answer holds at most 20,000 cells: objectives are paged (`limit` objectives
    from `offset`, by name; by default as many as fit). `X-Total-Count` gives the number
    of objectives and a `Link: <...>; rel="next"` header the next page, if any."""
    if to < from_:
        raise InvalidInput([FieldProblem(("query", "to"), "must not be before from")])
    days = (to - from_).days + 1
    if days > MAX_DAYS:
        raise InvalidInput([FieldProblem(("query", "to"), f"at most {MAX_DAYS} days at a time")])
    fit = MAX_CELLS // days
    if limit is not None and limit > fit:
        raise InvalidInput(
            [
                FieldProblem(
                    ("query", "limit"),
                    f"at most {fit} objectives for {days} days "
                    f"({MAX_CELLS:,} cells per answer); page with offset",
                )
            ]
        )
    query = select(Objective)
    if objective_id is not None:
        query = query.where(Objective.id == objective_id)
    else:
        query = query.where(Objective.archived.is_(False))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if objective_id is not None and not total:
        raise InvalidInput(
            [FieldProblem(("query", "objective_id"), f"objective {objective_id} not found")]
        )
    page = limit or fit
    objectives = list(
        session.scalars(query.order_by(Objective.name, Objective.id).limit(page).offset(offset))
    )
    response.headers["X-Total-Count"] = str(total)
    if offset + page < total:
        following = request.url.include_query_params(offset=offset + page, limit=page)
        response.headers["Link"] = f'<{following}>; rel="next"'
    with_ids = include == "post_ids"
    pending = pending_counts(session, objectives, from_, to)
    return [
        cell_out(c, with_ids, pending.get((c.objective_id, c.day), 0))
        for c in service.cells(session, objectives, from_, to, now=now, with_ids=with_ids)
    ]


@router.get("/coverage/gaps")
def coverage_gaps(
    session: SessionDep,
    now: NowDep,
    _: ApiViewer,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 14,
) -> list[CoverageCellOut]:
    """Objective-days from today on with fewer planned posts than required, soonest first."""
    return [cell_out(c, False) for c in service.gaps(session, now=now, days_ahead=days)]


@router.post("/coverage/check")
def coverage_check(
    session: SessionDep, runtime: RuntimeDep, now: NowDep, _: ApiEditor, after: BackgroundTasks
) -> CoverageCheckOut:
    """Run the coverage check now; answer the alerts it opened and resolved."""
    result = service.check(
        session, now=now, lookahead_days=runtime.settings.coverage_lookahead_days
    )
    announce(session, now=now, base_url=runtime.settings.base_url, times=Times.of(runtime.settings))
    ids = result.opened + result.resolved
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(ids)))}
    after.add_task(runtime.wake_dispatcher)
    return CoverageCheckOut(
        opened=[AlertOut.model_validate(alerts[i]) for i in result.opened],
        resolved=[AlertOut.model_validate(alerts[i]) for i in result.resolved],
    )
