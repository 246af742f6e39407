from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, status
from sqlalchemy.orm import Session

from app.coverage.views import cell_out
from app.deps import ApiContributor, ApiEditor, ApiViewer, NowDep, RuntimeDep, SessionDep
from app.insights.service import with_metrics
from app.pagination import Page, PageDep
from app.planning import blackouts, library, series, slots
from app.posts import flows, service
from app.posts.schemas import (
    DeliveryOut,
    PostBatch,
    PostBatchOut,
    PostCreate,
    PostOut,
    PostUpdate,
    PostWithCoverage,
)
from app.posts.status import PostStatus
from app.runtime import Runtime
from app.schemas import UTCTime
from app.team import hooks as team

router = APIRouter(tags=["posts"])


@router.post("/posts", status_code=status.HTTP_201_CREATED)
def create_post(
    body: PostCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiContributor,
    after: BackgroundTasks,
) -> PostWithCoverage:
    if body.evergreen:
        # planning: kept in the objective's library, not on the calendar.
        kept = library.create_library_post(session, runtime, data=body, user=user, now=now)
        return with_coverage(session, runtime, now, after, service.get(session, kept.id))
    hold = None
    if body.queue:
        # planning: the time (and default channels) of the objective's next free slot,
        # checked again under a lock when the post is written (two requests, one slot).
        body = slots.queued(session, body, now=now, days=runtime.settings.recurrence_horizon_days)
        hold = slots.holder(session, body)
    if body.recurrence is not None or body.timezone is not None:
        # planning: a recurring post; the answer is its first occurrence.
        created = series.create_series(session, runtime, data=body, user=user, now=now)
        cells = flows.after_post_change(
            session, runtime, now=now, touched=flows.touches(*created), after=after
        )
        out = service.written_out(created[0])
        return PostWithCoverage(
            **dict(out),
            coverage=[cell_out(c, False) for c in cells],
            warnings=_warnings(session, out),
        )
    post = flows.create_post(session, runtime, data=body, user=user, now=now, before_write=hold)
    return with_coverage(session, runtime, now, after, service.written_out(post))


@router.post("/posts/batch", status_code=status.HTTP_201_CREATED)
def create_posts(
    body: PostBatch,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiContributor,
    after: BackgroundTasks,
) -> PostBatchOut:
    """Create up to 1,000 posts (each as for POST /posts) at once, all or none; a
    problem names the post's index, e.g. `["body", "posts", 3, "text"]`."""
    series.refuse_in_batch(body.posts)
    created = flows.create_posts(session, runtime, items=body.posts, user=user, now=now)
    cells = flows.after_post_change(
        session, runtime, now=now, touched=flows.touches(*created), after=after
    )
    return PostBatchOut(
        items=[service.written_out(p) for p in created],
        coverage=[cell_out(c, False) for c in cells],
    )


@router.get("/posts")
def calendar(
    session: SessionDep,
    page: PageDep,
    _: ApiViewer,
    from_: Annotated[UTCTime | None, Query(alias="from")] = None,
    to: UTCTime | None = None,
    objective_id: str | None = None,
    channel_id: str | None = None,
    status: PostStatus | None = None,
    series_id: str | None = None,
) -> Page[PostOut]:
    """`series_id`: the occurrences of a recurring post (cancelled ones only with
    `status=cancelled`)."""
    items, total = service.calendar(
        session,
        start=from_,
        end=to,
        objective_id=objective_id,
        channel_id=channel_id,
        status=status,
        limit=page.limit,
        offset=page.offset,
        series_id=series_id,
    )
    return Page(items=items, total=total)


@router.get("/posts/{post_id}")
def get_post(post_id: str, session: SessionDep, _: ApiViewer) -> PostOut:
    return with_metrics(session, service.get(session, post_id))


@router.patch("/posts/{post_id}")
def update_post(
    post_id: str,
    body: PostUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiContributor,
    after: BackgroundTasks,
) -> PostWithCoverage:
    before = service.get(session, post_id)
    flows.update_post(session, runtime, post_id=post_id, data=body, user=user, now=now)
    out = service.get(session, post_id)
    return with_coverage(session, runtime, now, after, out, before=before)


@router.delete("/posts/{post_id}")
def cancel_post(
    post_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiContributor,
    after: BackgroundTasks,
) -> PostWithCoverage:
    before = service.get(session, post_id)
    service.cancel(session, post_id=post_id, user=user, now=now)
    team.after_cancel(session, post_id, user=user, now=now)
    out = service.get(session, post_id)
    return with_coverage(session, runtime, now, after, out, before=before)


def with_coverage(
    session: Session,
    runtime: Runtime,
    now: datetime,
    after: BackgroundTasks,
    out: PostOut,
    *,
    before: PostOut | None = None,
) -> PostWithCoverage:
    """The post with the coverage of the objective-days it touches, old and new; the
    check runs for them at once, so alerts open or resolve with the change."""
    cells = flows.after_post_change(
        session, runtime, now=now, touched=flows.touches(before, out), after=after
    )
    # dict(out), not model_dump(): the fields are validated already.
    return PostWithCoverage(
        **dict(out),
        coverage=[cell_out(c, False) for c in cells],
        warnings=_warnings(session, out),
    )


def _warnings(session: Session, out: PostOut) -> list[str]:
    if out.status == PostStatus.cancelled:
        return []
    return blackouts.warnings(session, out.objective_ids, out.scheduled_at)


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(
    delivery_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    _: ApiEditor,
    after: BackgroundTasks,
) -> DeliveryOut:
    delivery = service.retry_delivery(session, delivery_id=delivery_id, now=now)
    after.add_task(runtime.wake_dispatcher)
    return DeliveryOut.model_validate(delivery)
