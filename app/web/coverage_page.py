"""The coverage page: four weeks of each objective's days, met or missed."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.coverage import service as coverage
from app.deps import SessionDep, no_nul_in_url
from app.objectives.models import Objective
from app.team.pending import pending_counts
from app.web import calendar as grid
from app.web.infrastructure import (
    PageViewer,
    csrf_protect,
    local_today,
    parse_day,
    render,
    runtime_of,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


@router.get("/coverage")
def coverage_page(
    request: Request, session: SessionDep, user: PageViewer, start: str | None = None
) -> Response:
    runtime = runtime_of(request)
    today = local_today(user, runtime)
    first = parse_day(start) or today - timedelta(days=14)
    last = first + timedelta(days=27)
    objectives = list(
        session.scalars(
            select(Objective).where(Objective.archived.is_(False)).order_by(Objective.name)
        )
    )
    cells = coverage.cells(session, objectives, first, last, now=runtime.clock.now())
    return render(
        request,
        "coverage.html",
        {
            "rows": grid.heatmap(objectives, cells, today=today),
            "days": [first + timedelta(days=n) for n in range(28)],
            "today": today,
            "prev": first - timedelta(days=14),
            "next": first + timedelta(days=14),
            "first": first,
            "last": last,
            "pending": pending_counts(session, objectives, first, last),
        },
        user=user,
        session=session,
    )
