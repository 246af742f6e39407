"""Web pages of the team workflow: the approval queue, approve/reject/comment from a
post's page, the audit trail and the guardrails."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.channels import service as channels
from app.channels.models import Channel
from app.channels.schemas import ChannelUpdate
from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import Conflict, InvalidInput, NotFound
from app.posts import flows
from app.posts import service as posts
from app.posts.schemas import PostOut
from app.posts.status import PostStatus
from app.team import approval, audit, comments, guardrails, trail, twophy
from app.team import leaderboard as champions
from app.team.audit import Action, AuditFilter, Subject, record
from app.team.schemas import GuardrailCreate
from app.users.models import Role, User
from app.users.roles import has_role
from app.web.infrastructure import (
    FormDep,
    PageAdmin,
    PageContributor,
    PageEditor,
    PageError,
    PageViewer,
    csrf_protect,
    form_text,
    redirect,
    render,
    runtime_of,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)

QUEUE_SIZE = 200
HISTORY_SIZE = 100


def post_context(session: Session, post: PostOut, user: User) -> dict[str, Any]:
    """What a post's page shows of the team workflow: its thread, its history, and
    whether this person may approve it (an editor who is not its author)."""
    thread, _ = comments.thread(session, post.id, limit=500, offset=0)
    history, _ = audit.entries(
        session,
        AuditFilter(subject_type=Subject.post.value, subject_id=post.id),
        limit=HISTORY_SIZE,
        offset=0,
    )
    return {
        "comments": thread,
        "post_history": history,
        "can_approve": post.status == PostStatus.pending_approval
        and has_role(user, Role.editor)
        and post.created_by_id != user.id,
    }


def guardrail_matches(session: Session, body: Any, channels: list[Channel]) -> list[dict[str, str]]:
    """The compose page's live check: each guardrail the text, title or link hits."""
    found = guardrails.matches(
        session, text=body.text, title=body.title, link=body.link, channels=channels
    )
    return [
        {
            "field": m.field,
            "phrase": m.rule.phrase,
            "action": m.rule.action,
            "note": m.rule.note,
            "message": f"The {m.field} {guardrails.describe(m)}.",
        }
        for m in found
    ]


@router.get("/approvals")
def approvals_page(request: Request, session: SessionDep, user: PageEditor) -> Response:
    items, total = posts.calendar(
        session,
        start=None,
        end=None,
        objective_id=None,
        channel_id=None,
        status=PostStatus.pending_approval,
        limit=QUEUE_SIZE,
        offset=0,
    )
    authors = {
        u.id: u.email
        for u in session.scalars(
            select(User).where(User.id.in_({p.created_by_id for p in items if p.created_by_id}))
        )
    }
    return render(
        request,
        "approvals.html",
        {"items": items, "total": total, "authors": authors},
        user=user,
        session=session,
    )


def _back(request: Request, post_id: str) -> str:
    """Back to the queue when acting from it, otherwise to the post."""
    return "/approvals" if request.query_params.get("from") == "queue" else f"/posts/{post_id}"


@router.post("/posts/{post_id}/approve")
def approve(
    post_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageEditor,
    after: BackgroundTasks,
) -> Response:
    before = _post(session, post_id)
    try:
        approval.approve(session, post_id=post_id, user=user, now=now)
    except Conflict as exc:
        raise PageError(409, "The post cannot be approved", exc.message) from None
    except HTTPException as exc:  # 403: one's own post
        raise PageError(
            exc.status_code, "Not allowed", str(exc.detail).capitalize() + "."
        ) from None
    flows.after_post_change(
        session, runtime_of(request), now=now, touched=flows.touches(before), after=after
    )
    return redirect(_back(request, post_id), notice="approved")


@router.post("/posts/{post_id}/reject")
def reject(
    post_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageEditor,
    form: FormDep,
) -> Response:
    _post(session, post_id)
    comment = form_text(form, "comment").strip()
    if not comment or len(comment) > 5000:
        raise PageError(422, "Say why", "A rejection needs a comment (1 to 5,000 characters).")
    try:
        approval.reject(session, post_id=post_id, user=user, comment=comment, now=now)
    except Conflict as exc:
        raise PageError(409, "The post cannot be rejected", exc.message) from None
    return redirect(_back(request, post_id), notice="rejected")


@router.post("/posts/{post_id}/comments")
def comment(
    post_id: str,
    session: SessionDep,
    now: NowDep,
    user: PageContributor,
    form: FormDep,
) -> Response:
    _post(session, post_id)
    text = form_text(form, "text").strip()
    if not text or len(text) > 5000:
        raise PageError(422, "Nothing to add", "A comment has 1 to 5,000 characters.")
    comments.add(session, post_id, user=user, text=text, now=now)
    return redirect(f"/posts/{post_id}#comments", notice="commented")


def _post(session: Session, post_id: str) -> PostOut:
    try:
        return posts.get(session, post_id)
    except NotFound:
        raise PageError(404, "No such post", f"There is no post {post_id}.") from None


@router.post("/channels/{channel_id}/approval")
def set_requires_approval(
    channel_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageAdmin,
    form: FormDep,
) -> Response:
    box = runtime_of(request).box
    try:
        before = trail.channel_fields(channels.get(session, channel_id), box)
    except NotFound:
        raise PageError(404, "No such channel", f"There is no channel {channel_id}.") from None
    changed = channels.update(
        session,
        channel_id=channel_id,
        data=ChannelUpdate(requires_approval=form_text(form, "requires_approval") == "on"),
        box=box,
        now=now,
    )
    trail.channel_changed(session, box, user, channel_id, before, changed, now)
    return redirect(f"/channels/{channel_id}", notice="channel")


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    user: PageEditor,
    subject_type: str | None = None,
    page: int = 1,
) -> Response:
    kind = subject_type if subject_type in {s.value for s in Subject} else None
    page = max(1, min(page, 10_000))
    rows, total = audit.entries(
        session,
        AuditFilter(subject_type=kind),
        limit=HISTORY_SIZE,
        offset=(page - 1) * HISTORY_SIZE,
    )
    return render(
        request,
        "audit.html",
        {
            "entries": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // HISTORY_SIZE)),
            "subject_type": kind or "",
            "subjects": [s.value for s in Subject],
        },
        user=user,
        session=session,
    )


@router.get("/champions")
def champions_page(
    request: Request, session: SessionDep, now: NowDep, user: PageViewer, week: str = ""
) -> Response:
    zone = runtime_of(request).settings.timezone
    try:
        monday = champions.parse_week(week) if week else champions.monday_of(now, zone)
    except InvalidInput:
        raise PageError(422, "No such week", "Give the week as YYYY-Www, e.g. 2026-W48.") from None
    previous = champions.week_name(monday - timedelta(days=7))
    following = champions.week_name(monday + timedelta(days=7))
    return render(
        request,
        "champions.html",
        {
            "week": champions.week_name(monday),
            "rows": champions.standings(session, monday=monday, zone=zone),
            "previous": previous,
            "following": following if monday < champions.monday_of(now, zone) else None,
            "awards": twophy.awards(session),
        },
        user=user,
        session=session,
    )


@router.get("/guardrails")
def guardrails_page(request: Request, session: SessionDep, user: PageAdmin) -> Response:
    return _guardrails(request, session, user)


def _guardrails(
    request: Request,
    session: Session,
    user: User,
    *,
    errors: dict[str, list[str]] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rows, total = guardrails.listed(session, limit=1000, offset=0)
    return render(
        request,
        "guardrails.html",
        {"rules": rows, "total": total, "errors": errors or {}, "form": form or {}},
        user=user,
        session=session,
        status=status,
    )


@router.post("/guardrails")
def add_guardrail(
    request: Request, session: SessionDep, now: NowDep, user: PageAdmin, form: FormDep
) -> Response:
    values = {k: form_text(form, k) for k in ("phrase", "audience", "action", "note")}
    # Selects left alone (or a form from elsewhere) take the API's defaults.
    values = {k: v for k, v in values.items() if v or k == "phrase"}
    try:
        data = GuardrailCreate.model_validate(values)
        with session.begin_nested():
            rule = guardrails.create(session, now=now, **data.model_dump())
    except ValidationError as exc:
        errors = {str(e["loc"][-1]): [e["msg"]] for e in exc.errors()}
        return _guardrails(request, session, user, errors=errors, form=values, status=422)
    except InvalidInput as exc:
        errors = {str(p.loc[-1]): [p.msg] for p in exc.problems}
        return _guardrails(request, session, user, errors=errors, form=values, status=422)
    record(
        session,
        actor=user,
        action=Action.create,
        subject=Subject.guardrail,
        subject_id=rule.id,
        now=now,
        changes=audit.diff({}, data.model_dump()),
    )
    return redirect("/guardrails", notice="guardrail")


@router.post("/guardrails/{guardrail_id}/delete")
def delete_guardrail(
    guardrail_id: str, session: SessionDep, now: NowDep, user: PageAdmin
) -> Response:
    try:
        rule = guardrails.get(session, guardrail_id)
    except NotFound:
        raise PageError(
            404, "No such guardrail", f"There is no guardrail {guardrail_id}."
        ) from None
    before = {"phrase": rule.phrase, "audience": rule.audience, "action": rule.action}
    session.delete(rule)
    record(
        session,
        actor=user,
        action=Action.delete,
        subject=Subject.guardrail,
        subject_id=guardrail_id,
        now=now,
        changes=audit.diff(before, {}),
    )
    return redirect("/guardrails", notice="guardrail_deleted")
