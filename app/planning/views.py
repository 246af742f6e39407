"""/api/v1/series: a recurring post and its occurrences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Query, status

from app.coverage.views import cell_out
from app.deps import ApiEditor, ApiViewer, NowDep, RuntimeDep, SessionDep
from app.objectives import service as objectives
from app.pagination import Page, PageDep
from app.planning import blackouts, library, pause, slots
from app.planning import series as service
from app.planning.schemas import (
    MAX_SLOTS,
    BlackoutIn,
    BlackoutOut,
    PauseIn,
    PauseOut,
    SeriesChanged,
    SeriesOut,
    SeriesUpdate,
    SlotIn,
    SlotOut,
)
from app.posts import flows
from app.posts.schemas import PostOut
from app.posts.service import get as get_post
from app.schemas import Day

router = APIRouter(tags=["planning"])


@router.get("/series/{series_id}")
def get_series(series_id: str, session: SessionDep, _: ApiViewer) -> SeriesOut:
    """The rule and the post its occurrences copy; the occurrences themselves are
    `GET /api/v1/posts?series_id=`."""
    return service.to_out(service.get(session, series_id))


@router.patch("/series/{series_id}")
def update_series(
    series_id: str,
    body: SeriesUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiEditor,
    after: BackgroundTasks,
) -> SeriesChanged:
    """Change every future occurrence not edited on its own. A new `time`, `recurrence`
    or `timezone` cancels those occurrences and makes them again from the new rule."""
    before = [get_post(session, p.id) for p in service.future_attached(session, series_id, now)]
    changed, made = service.update_series(
        session, runtime, series_id=series_id, data=body, user=user, now=now
    )
    touched = flows.touches(*before, *changed, *made)
    cells = flows.after_post_change(session, runtime, now=now, touched=touched, after=after)
    out = service.to_out(service.get(session, series_id))
    return SeriesChanged(
        **dict(out),
        changed_post_ids=[p.id for p in changed],
        created_post_ids=[p.id for p in made],
        coverage=[cell_out(c, False) for c in cells],
    )


@router.delete("/series/{series_id}")
def cancel_series(
    series_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiEditor,
    after: BackgroundTasks,
) -> SeriesChanged:
    """Cancel every future occurrence (published and past ones stay); no more are made."""
    cancelled = service.cancel_series(session, series_id=series_id, user=user, now=now)
    cells = flows.after_post_change(
        session, runtime, now=now, touched=flows.touches(*cancelled), after=after
    )
    out = service.to_out(service.get(session, series_id))
    return SeriesChanged(
        **dict(out),
        changed_post_ids=[p.id for p in cancelled],
        created_post_ids=[],
        coverage=[cell_out(c, False) for c in cells],
    )


@router.get("/pause")
def get_pause(session: SessionDep, _: ApiViewer) -> PauseOut:
    """Whether publishing is paused, in what scope, by whom and why."""
    return pause.to_out(session, pause.current(session))


@router.post("/pause")
def pause_publishing(body: PauseIn, session: SessionDep, now: NowDep, user: ApiEditor) -> PauseOut:
    """Stop claiming deliveries of the scope (`all`, or `external` channels only) in every
    process; posting again changes the scope or reason. Announced on the alert channels."""
    return pause.to_out(session, pause.pause(session, data=body, user=user, now=now))


@router.delete("/pause")
def resume_publishing(
    session: SessionDep, runtime: RuntimeDep, now: NowDep, _: ApiEditor, after: BackgroundTasks
) -> PauseOut:
    """Resume: held deliveries go out, each once; announced on the alert channels."""
    pause.resume(session, now=now)
    after.add_task(runtime.wake_dispatcher)
    return PauseOut(paused=False)


@router.post("/blackouts", status_code=status.HTTP_201_CREATED)
def create_blackout(
    body: BlackoutIn, session: SessionDep, runtime: RuntimeDep, now: NowDep, user: ApiEditor
) -> BlackoutOut:
    """Days (both included) on which coverage requires nothing, for every objective
    (`objective_id` null) or one. Overlapping a blackout of the same scope is a 422."""
    created = blackouts.create(
        session,
        data=body,
        user=user,
        now=now,
        lookahead_days=runtime.settings.coverage_lookahead_days,
    )
    return BlackoutOut.model_validate(created)


@router.get("/blackouts")
def list_blackouts(
    session: SessionDep,
    page: PageDep,
    _: ApiViewer,
    objective_id: str | None = None,
    from_: Annotated[Day | None, Query(alias="from")] = None,
    to: Day | None = None,
) -> Page[BlackoutOut]:
    """Blackouts touching `[from, to]` (days), earliest first; with `objective_id`, the
    global ones and that objective's."""
    items, total = blackouts.list_(
        session,
        objective_id=objective_id,
        start=from_,
        end=to,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(items=[BlackoutOut.model_validate(b) for b in items], total=total)


@router.delete("/blackouts/{blackout_id}")
def delete_blackout(
    blackout_id: str, session: SessionDep, runtime: RuntimeDep, now: NowDep, _: ApiEditor
) -> BlackoutOut:
    removed = blackouts.delete(
        session,
        blackout_id=blackout_id,
        now=now,
        lookahead_days=runtime.settings.coverage_lookahead_days,
    )
    return BlackoutOut.model_validate(removed)


@router.get("/objectives/{objective_id}/slots")
def get_slots(objective_id: str, session: SessionDep, _: ApiViewer) -> list[SlotOut]:
    """The objective's weekly posting slots (Monday = 0; local time in its zone)."""
    return [SlotOut.model_validate(s) for s in slots.of(session, objective_id)]


@router.put("/objectives/{objective_id}/slots")
def put_slots(
    objective_id: str,
    body: Annotated[list[SlotIn], Body(max_length=MAX_SLOTS)],
    session: SessionDep,
    _: ApiEditor,
) -> list[SlotOut]:
    """Replace the objective's slots: `[{"weekday": 0, "time": "09:30", "channel_ids":
    [...]}]`. A post with `"queue": true` takes the next free one."""
    return [SlotOut.model_validate(s) for s in slots.replace(session, objective_id, body)]


@router.get("/objectives/{objective_id}/library")
def get_library(
    objective_id: str, session: SessionDep, page: PageDep, _: ApiViewer
) -> Page[PostOut]:
    """The objective's evergreen posts (created with `"evergreen": true`), oldest first."""
    objectives.get(session, objective_id)
    items, total = library.library_of(session, objective_id, limit=page.limit, offset=page.offset)
    return Page(items=[get_post(session, p.id) for p in items], total=total)


@router.post("/alerts/{alert_id}/fill", status_code=status.HTTP_201_CREATED)
def fill_alert(
    alert_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiEditor,
    after: BackgroundTasks,
) -> PostOut:
    """Fill an open `objective_uncovered` alert's day from the objective's evergreen
    library, as auto-fill would: the post made (`filled_from`, `auto_filled`). 409 when
    there is nothing to fill it with, or it was filled already."""
    post = library.fill_alert(session, runtime, alert_id=alert_id, user=user, now=now)
    after.add_task(runtime.wake_dispatcher)
    return get_post(session, post.id)
