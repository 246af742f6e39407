"""API of the team workflow: approval, comments, the audit trail, guardrails."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Response, status

from app.deps import (
    ApiAdmin,
    ApiContributor,
    ApiEditor,
    ApiViewer,
    NowDep,
    RuntimeDep,
    SessionDep,
)
from app.pagination import Page, PageDep
from app.posts import service as posts
from app.posts.schemas import PostWithCoverage
from app.posts.views import with_coverage
from app.schemas import UTCTime, patch_fields
from app.team import approval, audit, comments, guardrails
from app.team import leaderboard as champions
from app.team.audit import Action, Subject, record
from app.team.schemas import (
    AuditEntryOut,
    CommentCreate,
    CommentOut,
    GuardrailCreate,
    GuardrailOut,
    GuardrailUpdate,
    LeaderboardOut,
    RejectBody,
    StandingOut,
)

router = APIRouter(tags=["team workflow"])


@router.post("/posts/{post_id}/approve")
def approve_post(
    post_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiEditor,
    after: BackgroundTasks,
) -> PostWithCoverage:
    """Schedule a post pending approval. Not its author's own (403); 409 when the post
    is not pending, or its time passed while it waited."""
    before = posts.get(session, post_id)
    approval.approve(session, post_id=post_id, user=user, now=now)
    return with_coverage(session, runtime, now, after, posts.get(session, post_id), before=before)


@router.post("/posts/{post_id}/reject")
def reject_post(
    post_id: str,
    body: RejectBody,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiEditor,
    after: BackgroundTasks,
) -> PostWithCoverage:
    """Send a post pending approval back to draft; `comment` joins its thread."""
    before = posts.get(session, post_id)
    approval.reject(session, post_id=post_id, user=user, comment=body.comment, now=now)
    return with_coverage(session, runtime, now, after, posts.get(session, post_id), before=before)


@router.get("/posts/{post_id}/comments")
def list_comments(
    post_id: str, session: SessionDep, page: PageDep, _: ApiViewer
) -> Page[CommentOut]:
    items, total = comments.thread(session, post_id, limit=page.limit, offset=page.offset)
    return Page(items=items, total=total)


@router.post("/posts/{post_id}/comments", status_code=status.HTTP_201_CREATED)
def add_comment(
    post_id: str, body: CommentCreate, session: SessionDep, now: NowDep, user: ApiContributor
) -> CommentOut:
    return comments.add(session, post_id, user=user, text=body.text, now=now)


@router.get(
    "/audit",
    response_model=Page[AuditEntryOut],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def audit_trail(
    session: SessionDep,
    page: PageDep,
    _: ApiEditor,
    subject_type: Subject | None = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[UTCTime | None, Query(alias="from")] = None,
    to: UTCTime | None = None,
    format: Literal["json", "csv"] | None = None,
) -> Response | Page[AuditEntryOut]:
    """Who changed what, newest first; `?format=csv` for a spreadsheet (the same page)."""
    where = audit.AuditFilter(
        subject_type=subject_type.value if subject_type is not None else None,
        subject_id=subject_id,
        actor_id=actor_id,
        start=from_,
        end=to,
    )
    rows, total = audit.entries(session, where, limit=page.limit, offset=page.offset)
    if format == "csv":
        return Response(
            audit.as_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="cadence-audit.csv"'},
        )
    return Page(items=[AuditEntryOut.model_validate(r) for r in rows], total=total)


@router.get("/leaderboard")
def leaderboard(
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    _: ApiViewer,
    week: Annotated[str | None, Query(max_length=10)] = None,
) -> LeaderboardOut:
    """People ranked by posts they authored that were published in the ISO week
    (`YYYY-Www`, in CADENCE_TIMEZONE; this week by default), then by objective-days."""
    zone = runtime.settings.timezone
    monday = champions.parse_week(week) if week else champions.monday_of(now, zone)
    rows = champions.standings(session, monday=monday, zone=zone)
    return LeaderboardOut(
        week=champions.week_name(monday),
        items=[StandingOut.model_validate(r, from_attributes=True) for r in rows],
    )


@router.get("/guardrails")
def list_guardrails(session: SessionDep, page: PageDep, _: ApiAdmin) -> Page[GuardrailOut]:
    rows, total = guardrails.listed(session, limit=page.limit, offset=page.offset)
    return Page(items=[GuardrailOut.model_validate(r) for r in rows], total=total)


@router.post("/guardrails", status_code=status.HTTP_201_CREATED)
def create_guardrail(
    body: GuardrailCreate, session: SessionDep, now: NowDep, user: ApiAdmin
) -> GuardrailOut:
    rule = guardrails.create(
        session,
        phrase=body.phrase,
        audience=body.audience,
        action=body.action,
        note=body.note,
        now=now,
    )
    out = GuardrailOut.model_validate(rule)
    changes = audit.diff({}, out.model_dump(include={"phrase", "audience", "action", "note"}))
    record(
        session,
        actor=user,
        action=Action.create,
        subject=Subject.guardrail,
        subject_id=rule.id,
        now=now,
        changes=changes,
    )
    return out


@router.get("/guardrails/{guardrail_id}")
def get_guardrail(guardrail_id: str, session: SessionDep, _: ApiAdmin) -> GuardrailOut:
    return GuardrailOut.model_validate(guardrails.get(session, guardrail_id))


@router.patch("/guardrails/{guardrail_id}")
def update_guardrail(
    guardrail_id: str, body: GuardrailUpdate, session: SessionDep, now: NowDep, user: ApiAdmin
) -> GuardrailOut:
    rule = guardrails.get(session, guardrail_id)
    fields = ("phrase", "audience", "action", "note")
    before = {f: getattr(rule, f) for f in fields}
    changes = patch_fields(body)
    if "phrase" in changes:
        changes["phrase"] = guardrails.checked_phrase(str(changes["phrase"]))
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.updated_at = now
    session.flush()
    record(
        session,
        actor=user,
        action=Action.update,
        subject=Subject.guardrail,
        subject_id=rule.id,
        now=now,
        changes=audit.diff(before, {f: getattr(rule, f) for f in fields}),
    )
    return GuardrailOut.model_validate(rule)


@router.delete("/guardrails/{guardrail_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_guardrail(
    guardrail_id: str, session: SessionDep, now: NowDep, user: ApiAdmin
) -> Response:
    rule = guardrails.get(session, guardrail_id)
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
    return Response(status_code=status.HTTP_204_NO_CONTENT)
