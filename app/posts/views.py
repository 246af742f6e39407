from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, status
from pydantic import AwareDatetime

from app.deps import Editor, NowDep, RuntimeDep, SessionDep, Viewer
from app.pagination import Page, PageDep
from app.posts import service
from app.posts.schemas import DeliveryOut, PostCreate, PostOut, PostUpdate
from app.posts.status import PostStatus

router = APIRouter(tags=["posts"])


@router.post("/posts", status_code=status.HTTP_201_CREATED)
def create_post(
    body: PostCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: Editor,
    after: BackgroundTasks,
) -> PostOut:
    post = service.create(
        session,
        data=body,
        user=user,
        now=now,
        media_dir=runtime.settings.media_dir,
        base_url=runtime.settings.base_url,
    )
    out = service.get(session, post.id)
    # Background tasks run after the commit, so the dispatcher sees the change.
    after.add_task(runtime.wake_dispatcher)
    return out


@router.get("/posts")
def calendar(
    session: SessionDep,
    page: PageDep,
    _: Viewer,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    objective_id: str | None = None,
    channel_id: str | None = None,
    status: PostStatus | None = None,
) -> Page[PostOut]:
    items, total = service.calendar(
        session,
        start=from_,
        end=to,
        objective_id=objective_id,
        channel_id=channel_id,
        status=status,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(items=items, total=total)


@router.get("/posts/{post_id}")
def get_post(post_id: str, session: SessionDep, _: Viewer) -> PostOut:
    return service.get(session, post_id)


@router.patch("/posts/{post_id}")
def update_post(
    post_id: str,
    body: PostUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: Editor,
    after: BackgroundTasks,
) -> PostOut:
    service.update(
        session,
        post_id=post_id,
        data=body,
        user=user,
        now=now,
        media_dir=runtime.settings.media_dir,
        base_url=runtime.settings.base_url,
    )
    out = service.get(session, post_id)
    after.add_task(runtime.wake_dispatcher)
    return out


@router.delete("/posts/{post_id}")
def cancel_post(post_id: str, session: SessionDep, now: NowDep, user: Editor) -> PostOut:
    service.cancel(session, post_id=post_id, user=user, now=now)
    return service.get(session, post_id)


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(
    delivery_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    _: Editor,
    after: BackgroundTasks,
) -> DeliveryOut:
    delivery = service.retry_delivery(session, delivery_id=delivery_id, now=now)
    after.add_task(runtime.wake_dispatcher)
    return DeliveryOut.model_validate(delivery)
