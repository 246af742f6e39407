"""The calendar page: a month or week of posts with each day's coverage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.channels import service as channels
from app.coverage import service as coverage
from app.deps import SessionDep, no_nul_in_url
from app.objectives.models import Objective
from app.pagination import MAX_OFFSET
from app.planning import blackouts
from app.posts import service as posts
from app.posts.models import Post, PostKind, PostState
from app.web import calendar as grid
from app.web.infrastructure import (
    PageViewer,
    csrf_protect,
    local_today,
    parse_day,
    render,
    runtime_of,
    user_zone,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


@router.get("/calendar")
def calendar_page(
    request: Request,
    session: SessionDep,
    user: PageViewer,
    view: Annotated[str, Query(pattern="^(month|week)$")] = "month",
    date_: Annotated[str | None, Query(alias="date")] = None,
    day: str | None = None,
    objective: str | None = None,
    channel: str | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    runtime = runtime_of(request)
    zone = user_zone(user, runtime)
    today = local_today(user, runtime)
    focus = parse_day(day)
    anchor = focus or parse_day(date_) or today
    start, end = grid.month_range(anchor) if view == "month" else grid.week_range(anchor)
    low, high = grid.utc_bounds(start, end, zone)
    objective = objective or None
    channel = channel or None

    every_objective = list(session.scalars(select(Objective).order_by(Objective.name)))
    by_id = {o.id: o for o in every_objective}
    shown = [o for o in every_objective if not o.archived and objective in (None, o.id)]
    cells = coverage.cells(session, shown, start, end, now=runtime.clock.now())
    found, total = posts.calendar(
        session,
        start=low,
        end=high,
        objective_id=objective,
        channel_id=channel,
        status=None,
        limit=grid.POSTS_PER_PAGE,
        offset=offset,
    )
    # More posts than a page holds are paged, with a notice saying so: never cut silently.
    paged = grid.paging(total, offset=offset, shown=len(found))
    days = grid.build_days(
        start,
        end,
        month=anchor.month if view == "month" else None,
        today=today,
        posts=found,
        cells=cells,
        objectives=by_id,
        zone=zone,
    )
    all_channels, _ = channels.list_(session, platform=None, status=None, limit=1000, offset=0)
    return render(
        request,
        "calendar.html",
        {
            "view": view,
            "anchor": anchor,
            "focus": focus,
            "today": today,
            "weeks": grid.weeks(days),
            "prev": grid.shift(anchor, view, -1),
            "next": grid.shift(anchor, view, 1),
            "objectives": by_id,
            "filter_objectives": [o for o in every_objective if not o.archived],
            "channels": all_channels,
            "objective": objective,
            "channel": channel,
            "status_icons": grid.STATUS,
            "drafts": _undated_drafts(session),
            "paged": paged,
            # planning: blackout days, marked on the grid.
            "blackouts": blackouts.on_days(
                session, start, end, {o.id: o.name for o in every_objective}
            ),
        },
        user=user,
        session=session,
    )


def _undated_drafts(session: SessionDep) -> list[Post]:
    return list(
        session.scalars(
            select(Post)
            .where(
                Post.scheduled_at.is_(None),
                Post.state == PostState.draft,
                Post.kind == PostKind.post,
                Post.evergreen.is_(False),  # planning: library posts are not drafts
            )
            .order_by(Post.updated_at.desc())
            .limit(20)
        )
    )
