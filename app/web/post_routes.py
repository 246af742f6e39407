"""Posts: compose, edit, the post page (deliveries, retry, cancel), and the compose
form's helpers (live per-channel check, media upload)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.channels import service as channels
from app.channels.models import Channel, ChannelStatus
from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.media.models import Media
from app.objectives.models import Objective
from app.posts import flows
from app.posts import service as posts
from app.posts.models import DeliveryAttempt, Post, PostKind
from app.posts.schemas import MAX_TEXT_LENGTH, PostOut
from app.team import hooks as team
from app.users.models import User
from app.web import calendar as grid
from app.web import team_pages
from app.web.compose import ComposeForm, check_channels
from app.web.infrastructure import (
    FormDep,
    PageBriefContributor,
    PageContributor,
    PageEditor,
    PageError,
    PageViewer,
    csrf_protect,
    field_errors,
    local_today,
    redirect,
    render,
    runtime_of,
    user_zone,
)
from connectors.registry import PLATFORMS

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)

# In words a person can act on, by the error kind the publishing engine records.
ERROR_KINDS = {
    "transient": "The platform had a temporary problem; Cadence tries again by itself.",
    "rate_limited": "The platform asked Cadence to slow down; it waits and tries again.",
    "auth_expired": "The channel's login expired or was revoked: reconnect the channel "
    "(new credentials on its page), then retry.",
    "permanent": "It was refused. Fix what is named below, then edit the post or retry.",
    "ambiguous": "Cadence cannot tell whether the post went out (the platform did not "
    "answer in time). Look at the account: retry only if the post is not there.",
    "missed_window": "It was found too late after its time (Cadence was down), so it was "
    "not published blindly. Retry to publish it now.",
    "channel_disabled": "The channel is disabled. Enable it, then retry.",
    "internal_only": "The post is internal only and this channel is external.",
}
# A temporary problem that did not go away: Cadence has stopped trying.
GAVE_UP = "The platform kept failing, so Cadence stopped trying. Retry when it works again."


def plain_error(status: str, kind: str | None) -> str:
    if status == "failed" and kind in ("transient", "rate_limited"):
        return GAVE_UP
    return ERROR_KINDS.get(kind or "", "It did not go out.")


def _get_post(session: SessionDep, post_id: str) -> PostOut:
    try:
        post = posts.get(session, post_id)
    except NotFound:
        raise PageError(404, "No such post", f"There is no post {post_id}.") from None
    if session.scalar(select(Post.kind).where(Post.id == post_id)) == PostKind.alert:
        raise PageError(404, "No such post", "That is an alert announcement, not a post.")
    return post


def _choices(session: SessionDep, form: ComposeForm) -> dict[str, Any]:
    """The objectives and channels the form offers: usable ones, and any already chosen."""
    objectives = [
        o
        for o in session.scalars(select(Objective).order_by(Objective.name))
        if not o.archived or o.id in form.objective_ids
    ]
    found, _ = channels.list_(session, platform=None, status=None, limit=1000, offset=0)
    usable = [c for c in found if c.status != ChannelStatus.disabled or c.id in form.channel_ids]
    media = (
        list(session.scalars(select(Media).where(Media.id.in_(form.media_ids))))
        if form.media_ids
        else []
    )
    order = {m: i for i, m in enumerate(form.media_ids)}
    return {
        "all_objectives": objectives,
        "external": [c for c in usable if c.audience == "external"],
        "internal": [c for c in usable if c.audience != "external"],
        "platform_labels": {name: p.label for name, p in PLATFORMS.items()},
        "media": sorted(media, key=lambda m: order.get(m.id, 0)),
    }


def _compose(
    request: Request,
    session: SessionDep,
    user: User,
    form: ComposeForm,
    *,
    post: PostOut | None = None,
    problems: list[FieldProblem] | None = None,
    status: int = 200,
) -> Response:
    problems = problems or []
    channel_names = {c.id: c.name for c in session.scalars(select(Channel))}
    return render(
        request,
        "compose.html",
        {
            "form": form,
            "post": post,
            "errors": field_errors(problems),
            "problems": problems,
            "channel_names": channel_names,
            **_choices(session, form),
        },
        user=user,
        session=session,
        status=status,
    )


@router.get("/posts/new")
def new_post(
    request: Request,
    session: SessionDep,
    user: PageContributor,
    day: str | None = None,
    objective: str | None = None,
) -> Response:
    form = ComposeForm(
        day=day or local_today(user, runtime_of(request)).isoformat(),
        time="09:00",
        objective_ids=[objective] if objective else [],
    )
    return _compose(request, session, user, form)


@router.post("/posts/new")
def create_post(
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageContributor,
    form: FormDep,
    after: BackgroundTasks,
) -> Response:
    runtime = runtime_of(request)
    compose = ComposeForm.from_form(form)
    data, problems = compose.to_create(user_zone(user, runtime))
    if data is not None:
        try:
            created = flows.create_post(session, runtime, data=data, user=user, now=now)
        except InvalidInput as exc:
            problems = exc.problems
        except Conflict as exc:
            problems = [FieldProblem(("form",), exc.message, type="conflict")]
    if data is None or problems:
        return _compose(request, session, user, compose, problems=problems, status=422)
    flows.after_post_change(session, runtime, now=now, touched=flows.touches(created), after=after)
    return redirect(
        f"/posts/{created.id}",
        notice=compose.action
        if compose.action == "draft"
        else "submitted"
        if created.state == "pending_approval"
        else "scheduled",
    )


@router.get("/posts/{post_id}/edit")
def edit_post(
    post_id: str, request: Request, session: SessionDep, user: PageContributor
) -> Response:
    post = _get_post(session, post_id)
    form = ComposeForm.from_post(post, user_zone(user, runtime_of(request)))
    return _compose(request, session, user, form, post=post)


@router.post("/posts/{post_id}/edit")
def update_post(
    post_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageContributor,
    form: FormDep,
    after: BackgroundTasks,
) -> Response:
    runtime = runtime_of(request)
    post = _get_post(session, post_id)
    compose = ComposeForm.from_form(form)
    data, problems = compose.to_update(user_zone(user, runtime), post)
    if data is not None:
        try:
            updated = flows.update_post(
                session, runtime, post_id=post_id, data=data, user=user, now=now
            )
        except InvalidInput as exc:
            problems = exc.problems
        except Conflict as exc:
            problems = [FieldProblem(("form",), exc.message, type="conflict")]
    if data is None or problems:
        return _compose(request, session, user, compose, post=post, problems=problems, status=422)
    flows.after_post_change(
        session, runtime, now=now, touched=flows.touches(post, updated), after=after
    )
    return redirect(f"/posts/{post_id}", notice="saved")


@router.get("/posts/{post_id}")
def post_page(post_id: str, request: Request, session: SessionDep, user: PageViewer) -> Response:
    post = _get_post(session, post_id)
    by_channel = {
        c.id: c for c in session.scalars(select(Channel).where(Channel.id.in_(post.channel_ids)))
    }
    objectives = list(
        session.scalars(
            select(Objective).where(Objective.id.in_(post.objective_ids)).order_by(Objective.name)
        )
    )
    history: dict[str, list[DeliveryAttempt]] = {}
    if post.deliveries:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_([d.id for d in post.deliveries]))
            .order_by(DeliveryAttempt.number, DeliveryAttempt.started_at)
        ):
            history.setdefault(attempt.delivery_id, []).append(attempt)
    locked = any(d.status in posts.LOCKED for d in post.deliveries)
    return render(
        request,
        "post.html",
        {
            "post": post,
            "channels": by_channel,
            "objectives": objectives,
            "history": history,
            "editable": post.status != "cancelled" and not locked,
            "retryable": [d.id for d in post.deliveries if d.status in posts.RETRYABLE]
            if post.status != "cancelled"
            else [],
            "status_icons": grid.STATUS,
            "delivery_icons": grid.DELIVERY_STATUS,
            "plain_error": plain_error,
            **team_pages.post_context(session, post, user),
        },
        user=user,
        session=session,
    )


@router.post("/posts/{post_id}/cancel")
def cancel_post(
    post_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageContributor,
    after: BackgroundTasks,
) -> Response:
    before = _get_post(session, post_id)
    try:
        posts.cancel(session, post_id=post_id, user=user, now=now)
        team.after_cancel(session, post_id, user=user, now=now)
    except Conflict as exc:
        raise PageError(409, "The post cannot be cancelled", exc.message) from None
    flows.after_post_change(
        session, runtime_of(request), now=now, touched=flows.touches(before), after=after
    )
    return redirect(f"/posts/{post_id}", notice="cancelled")


@router.post("/deliveries/{delivery_id}/retry")
def retry(
    delivery_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    _: PageEditor,
    after: BackgroundTasks,
) -> Response:
    try:
        delivery = posts.retry_delivery(session, delivery_id=delivery_id, now=now)
    except NotFound:
        raise PageError(404, "No such delivery", f"There is no delivery {delivery_id}.") from None
    except Conflict as exc:
        raise PageError(409, "The delivery cannot be retried", exc.message) from None
    after.add_task(runtime_of(request).wake_dispatcher)
    return redirect(f"/posts/{delivery.post_id}", notice="retrying")


# -- the compose form's helpers (JSON, called by static/app.js) -----------------------


class CheckBody(BaseModel):
    text: str = Field(default="", max_length=MAX_TEXT_LENGTH)
    title: str = Field(default="", max_length=300)
    link: str = Field(default="", max_length=2048)
    channel_ids: list[str] = Field(default_factory=list, max_length=100)
    media_ids: list[str] = Field(default_factory=list, max_length=20)
    internal_only: bool = False


@router.post("/web/validate")
def validate(
    body: CheckBody, request: Request, session: SessionDep, _: PageContributor
) -> JSONResponse:
    """Each chosen channel's counter and problems, by its platform's own `validate`."""
    settings = runtime_of(request).settings
    ids = list(dict.fromkeys(body.channel_ids))
    found = {c.id: c for c in session.scalars(select(Channel).where(Channel.id.in_(ids)))}
    media_ids = list(dict.fromkeys(body.media_ids))
    media = {m.id: m for m in session.scalars(select(Media).where(Media.id.in_(media_ids)))}
    guarded = team_pages.guardrail_matches(session, body, list(found.values()))
    # Nothing is written here: end the transaction before the platforms' rules run.
    session.commit()
    results = check_channels(
        [found[i] for i in ids if i in found],
        [media[i] for i in media_ids if i in media],
        text=body.text,
        title=body.title,
        link=body.link,
        internal_only=body.internal_only,
        media_dir=settings.media_dir,
        base_url=settings.base_url,
    )
    return JSONResponse({"channels": results, "guardrails": guarded})


@router.post("/web/media")
async def upload(request: Request, user: PageBriefContributor) -> Response:
    """The media API's own upload (same checks and answers), for a logged-in editor."""
    from app.media.views import upload_media

    return await upload_media(request, runtime_of(request), user)


@router.get("/posts")
def posts_index() -> Response:
    return redirect("/calendar")
