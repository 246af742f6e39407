"""The account pages: logging in and out, one's own profile, and (for admins) the users."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import InvalidInput
from app.team import trail, twophy
from app.team.audit import Action, Subject
from app.users import throttle
from app.users.models import Role, User
from app.users.passwords import authenticate, set_password, verify_password
from app.users.profile import list_users, set_timezone
from app.users.roles import ROLE_NAMES
from app.users.service import end_sessions, get_or_create_user
from app.web.infrastructure import (
    FormDep,
    PageAdmin,
    PageUser,
    csrf_protect,
    field_errors,
    form_text,
    redirect,
    render,
    web_session,
    web_state,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


def _safe_next(target: str) -> str:
    """Only a path on this site: never an absolute URL (an open redirect)."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return "/calendar"
    return target


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' * (seconds != 1)}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' * (minutes != 1)}"


@router.get("/")
def home(request: Request) -> Response:
    return redirect("/calendar" if web_session(request).user_id else "/login")


@router.get("/login")
def login_page(request: Request, next: str = "/calendar") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "email": "", "error": None})


@router.post("/login")
def login(request: Request, session: SessionDep, now: NowDep, form: FormDep) -> Response:
    state = web_state(request)
    email = form_text(form, "email").strip()
    target = _safe_next(form_text(form, "next") or "/calendar")
    # The client's own address: behind a proxy listed in CADENCE_FORWARDED_ALLOW_IPS,
    # uvicorn's proxy-headers middleware has put X-Forwarded-For's address here.
    address = request.client.host if request.client else "unknown"
    context = {"next": target, "email": email}
    # Counted before the password is checked, so concurrent guesses all count.
    wait = throttle.count_attempt(session, email=email, address=address, now=now)
    if wait is not None:
        error = f"Too many failed attempts. Try again in {_wait_words(wait)}."
        refused = render(request, "login.html", {**context, "error": error}, status=429)
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = authenticate(session, email=email, password=form_text(form, "password"))
    if user is None:
        error = "That e-mail and password do not match an account."
        return render(request, "login.html", {**context, "error": error}, status=401)
    throttle.succeeded(session, email=email, address=address, now=now)
    trail.changed(
        session,
        user=user,
        subject=Subject.user,
        subject_id=user.id,
        before={},
        after={},
        now=now,
        action=Action.login,
    )
    ws = web_session(request)
    state.sessions.login(ws, user)
    response = redirect(target)
    state.sessions.write(request, response, ws)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End the session everywhere: a copy of the cookie stops working as well."""
    ws = web_session(request)
    sessions = web_state(request).sessions
    user = session.get(User, ws.user_id) if ws.user_id else None
    if user is not None and sessions.is_current(ws, user):
        end_sessions(user)
    response = redirect("/login")
    sessions.clear(request, response)
    return response


@router.get("/profile")
def profile_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    return render(
        request,
        "profile.html",
        {
            "zones": sorted(available_timezones()),
            "errors": {},
            "twophy_weeks": twophy.badges(session, user.id),
        },
        user=user,
        session=session,
    )


class _Rollback(Exception):
    """Undo the savepoint: the form had a problem, so nothing of it is kept."""


@router.post("/profile")
def profile_save(
    request: Request, session: SessionDep, now: NowDep, user: PageUser, form: FormDep
) -> Response:
    errors: dict[str, list[str]] = {}
    zone_before = user.timezone
    new, current = form_text(form, "new_password"), form_text(form, "current_password")
    try:
        with session.begin_nested():
            if "timezone" in form:
                try:
                    set_timezone(session, user=user, timezone=form_text(form, "timezone") or None)
                except InvalidInput as exc:
                    errors.update(field_errors(exc.problems))
            if new or current:
                if not verify_password(user, current):
                    errors["current_password"] = ["that is not your current password"]
                elif new != form_text(form, "confirm_password"):
                    errors["confirm_password"] = ["the two new passwords differ"]
                else:
                    try:
                        set_password(session, user=user, password=new, field="new_password")
                    except InvalidInput as exc:
                        errors["new_password"] = [p.msg for p in exc.problems]
            if errors:
                raise _Rollback
    except _Rollback:
        return render(
            request,
            "profile.html",
            {
                "zones": sorted(available_timezones()),
                "errors": errors,
                "twophy_weeks": twophy.badges(session, user.id),
            },
            user=user,
            session=session,
            status=422,
        )
    trail.changed(
        session,
        user=user,
        subject=Subject.user,
        subject_id=user.id,
        before={"timezone": zone_before},
        after={"timezone": user.timezone},
        now=now,
        credentials_changed=bool(new),
    )
    response = redirect("/profile", notice="password" if new else "saved")
    if new:
        # A new password ends other sessions; this one goes on with the new fingerprint.
        ws = web_session(request)
        web_state(request).sessions.keep(ws, user)
        web_state(request).sessions.write(request, response, ws)
    return response


@router.get("/users")
def users_page(request: Request, session: SessionDep, user: PageAdmin) -> Response:
    return render(
        request,
        "users.html",
        {"users": list_users(session), "errors": {}, "form": {}, "roles": ROLE_NAMES},
        user=user,
        session=session,
    )


@router.post("/users")
def users_save(
    request: Request, session: SessionDep, now: NowDep, user: PageAdmin, form: FormDep
) -> Response:
    email = form_text(form, "email").strip()
    role = form_text(form, "role")
    errors: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 320:
        errors["email"] = ["give the person's e-mail address"]
    if role not in ROLE_NAMES:
        errors["role"] = ["choose a role"]
    if not errors:
        try:
            with session.begin_nested():
                found = session.scalar(select(User).where(User.email == email.lower()))
                before = {"email": found.email, "role": found.role} if found else None
                target = get_or_create_user(session, email=email, role=Role(role), now=now)
                if form_text(form, "password"):
                    set_password(session, user=target, password=form_text(form, "password"))
                trail.changed(
                    session,
                    user=user,
                    subject=Subject.user,
                    subject_id=target.id,
                    before=before,
                    after={"email": target.email, "role": target.role},
                    now=now,
                    credentials_changed=bool(form_text(form, "password")),
                )
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
                "roles": ROLE_NAMES,
            },
            user=user,
            session=session,
            status=422,
        )
    return redirect("/users", notice="password" if form_text(form, "password") else "saved")
