"""The web pages: login, calendar, coverage, alerts, profile and users.

Thin: each handler reads the form or query, calls the services, renders a template.
Posts are in post_routes.py, channels in channel_routes.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.alerts import service as alerts
from app.alerts.announce import alert_link
from app.alerts.models import AlertStatus
from app.channels import service as channels
from app.coverage import service as coverage
from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import Conflict, InvalidInput, NotFound
from app.objectives.models import Objective
from app.pagination import MAX_OFFSET
from app.posts import service as posts
from app.posts.models import Post, PostKind, PostState
from app.posts.schemas import PostOut
from app.users.models import Role
from app.users.passwords import authenticate, set_password, verify_password
from app.users.profile import list_users, set_timezone
from app.users.service import get_or_create_user
from app.web import calendar as grid
from app.web.pages import (
    Admin,
    Editor,
    FormDep,
    PageError,
    PageUser,
    Viewer,
    csrf_protect,
    field_errors,
    local_today,
    redirect,
    render,
    runtime_of,
    user_zone,
    web_session,
    web_state,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


def _text(form: object, name: str) -> str:
    value = form.get(name)  # type: ignore[attr-defined]
    return value if isinstance(value, str) else ""


def _safe_next(target: str) -> str:
    """Only a path on this site: never an absolute URL (an open redirect)."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return "/calendar"
    return target


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# -- login -------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    return redirect("/calendar" if web_session(request).user_id else "/login")


@router.get("/login")
def login_page(request: Request, next: str = "/calendar") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(request: Request, session: SessionDep, now: NowDep, form: FormDep) -> Response:
    state = web_state(request)
    email = _text(form, "email").strip()
    target = _safe_next(_text(form, "next") or "/calendar")
    address = request.client.host if request.client else "unknown"
    context = {"next": target, "email": email}
    until = state.throttle.blocked_until(email=email, address=address, now=now)
    if until is not None:
        minutes = max(1, int((until - now).total_seconds() + 59) // 60)
        error = f"Too many failed attempts. Try again in {minutes} minute{'s' * (minutes > 1)}."
        return render(request, "login.html", {**context, "error": error}, status=429)
    user = authenticate(session, email=email, password=_text(form, "password"))
    if user is None:
        state.throttle.failed(email=email, address=address, now=now)
        error = "That e-mail and password do not match an account."
        return render(request, "login.html", {**context, "error": error}, status=401)
    state.throttle.succeeded(email=email)
    ws = web_session(request)
    state.sessions.login(ws, user)
    response = redirect(target)
    state.sessions.write(request, response, ws)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = redirect("/login")
    web_state(request).sessions.clear(request, response)
    return response


# -- profile and users -------------------------------------------------------------


@router.get("/profile")
def profile_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    return render(
        request,
        "profile.html",
        {"zones": sorted(available_timezones()), "errors": {}},
        user=user,
        session=session,
    )


class _Rollback(Exception):
    """Undo the savepoint: the form had a problem, so nothing of it is kept."""


@router.post("/profile")
def profile_save(request: Request, session: SessionDep, user: PageUser, form: FormDep) -> Response:
    errors: dict[str, list[str]] = {}
    new, current = _text(form, "new_password"), _text(form, "current_password")
    try:
        with session.begin_nested():
            if "timezone" in form:
                try:
                    set_timezone(session, user=user, timezone=_text(form, "timezone") or None)
                except InvalidInput as exc:
                    errors.update(field_errors(exc.problems))
            if new or current:
                if not verify_password(user, current):
                    errors["current_password"] = ["that is not your current password"]
                elif new != _text(form, "confirm_password"):
                    errors["confirm_password"] = ["the two new passwords differ"]
                else:
                    try:
                        set_password(session, user=user, password=new)
                    except InvalidInput as exc:
                        errors["new_password"] = [p.msg for p in exc.problems]
            if errors:
                raise _Rollback
    except _Rollback:
        return render(
            request,
            "profile.html",
            {"zones": sorted(available_timezones()), "errors": errors},
            user=user,
            session=session,
            status=422,
        )
    response = redirect("/profile", notice="password" if new else "saved")
    if new:
        # A new password ends other sessions; this one goes on with the new fingerprint.
        ws = web_session(request)
        web_state(request).sessions.keep(ws, user)
        web_state(request).sessions.write(request, response, ws)
    return response


@router.get("/users")
def users_page(request: Request, session: SessionDep, user: Admin) -> Response:
    return render(
        request,
        "users.html",
        {"users": list_users(session), "errors": {}, "form": {}},
        user=user,
        session=session,
    )


@router.post("/users")
def users_save(
    request: Request, session: SessionDep, now: NowDep, user: Admin, form: FormDep
) -> Response:
    email = _text(form, "email").strip()
    role = _text(form, "role")
    errors: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 320:
        errors["email"] = ["give the person's e-mail address"]
    if role not in {r.value for r in Role}:
        errors["role"] = ["choose a role"]
    if not errors:
        try:
            with session.begin_nested():
                target = get_or_create_user(session, email=email, role=Role(role), now=now)
                if _text(form, "password"):
                    set_password(session, user=target, password=_text(form, "password"))
        except InvalidInput as exc:
            errors = field_errors(exc.problems)
    if errors:
        return render(
            request,
            "users.html",
            {
                "users": list_users(session),
                "errors": errors,
                "form": {"email": email, "role": role},
            },
            user=user,
            session=session,
            status=422,
        )
    return redirect("/users", notice="password" if _text(form, "password") else "saved")


# -- calendar ----------------------------------------------------------------------


@router.get("/calendar")
def calendar_page(
    request: Request,
    session: SessionDep,
    user: Viewer,
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
    focus = _parse_day(day)
    anchor = focus or _parse_day(date_) or today
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
    found = _without_alert_posts(session, found)
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
        },
        user=user,
        session=session,
    )


def _without_alert_posts(session: SessionDep, found: list[PostOut]) -> list[PostOut]:
    """Alert announcements are posts too (kind "alert"); they are not calendar content.

    posts.service.calendar does not filter them out (yet), so the page does.
    """
    ids = [p.id for p in found]
    if not ids:
        return found
    alerts_ = set(
        session.scalars(select(Post.id).where(Post.id.in_(ids), Post.kind == PostKind.alert))
    )
    return [p for p in found if p.id not in alerts_]


def _undated_drafts(session: SessionDep) -> list[Post]:
    return list(
        session.scalars(
            select(Post)
            .where(
                Post.scheduled_at.is_(None),
                Post.state == PostState.draft,
                Post.kind == PostKind.post,
            )
            .order_by(Post.updated_at.desc())
            .limit(20)
        )
    )


# -- coverage ----------------------------------------------------------------------


@router.get("/coverage")
def coverage_page(
    request: Request, session: SessionDep, user: Viewer, start: str | None = None
) -> Response:
    runtime = runtime_of(request)
    today = local_today(user, runtime)
    first = _parse_day(start) or today - timedelta(days=14)
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
        },
        user=user,
        session=session,
    )


# -- alerts ------------------------------------------------------------------------


@router.get("/alerts")
def alerts_page(request: Request, session: SessionDep, user: Viewer) -> Response:
    sections = []
    for status, title, limit in (
        (AlertStatus.open, "Open", 200),
        (AlertStatus.acknowledged, "Acknowledged", 200),
        (AlertStatus.resolved, "Resolved lately", 50),
    ):
        items, total = alerts.list_(session, status=status, kind=None, limit=limit, offset=0)
        sections.append((status.value, title, items, total))
    return render(
        request,
        "alerts.html",
        {"sections": sections, "link": lambda a: alert_link(a, "")},
        user=user,
        session=session,
    )


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: str, session: SessionDep, now: NowDep, user: Editor) -> Response:
    try:
        alerts.acknowledge(session, alert_id=alert_id, user=user, now=now)
    except NotFound as exc:
        raise PageError(404, "No such alert", str(exc)) from None
    except Conflict as exc:
        raise PageError(409, "Cannot acknowledge", exc.message) from None
    return redirect("/alerts", notice="acknowledged")
