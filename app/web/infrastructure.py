"""The web pages' infrastructure: templates, the session and role dependencies, CSRF,
notices (flash messages), redirects and error pages. No page lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.alerts.models import Alert, AlertStatus
from app.db import transaction
from app.deps import SessionDep
from app.errors import FieldProblem
from app.planning import pause
from app.runtime import Runtime
from app.schemas import FIRST_DAY, LAST_DAY
from app.users.models import Role, User
from app.users.roles import has_role, refusal
from app.web.sessions import CSRF_FIELD, CSRF_HEADER, Sessions, WebSession, csrf_matches

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

# Paths whose POST body is a file: the CSRF token must come in the header.
UPLOAD_PATHS = ("/web/media",)


@dataclass
class WebState:
    sessions: Sessions


class PageError(Exception):
    """Shown to the person as a page (or JSON for the pages' script) with this status."""

    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail


class LoginRequired(Exception):
    pass


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def web_session(request: Request) -> WebSession:
    """The visitor's session, read once per request (a new one for a new visitor)."""
    found = getattr(request.state, "web_session", None)
    if found is None:
        found = web_state(request).sessions.read(request)
        request.state.web_session = found
    return found


async def csrf_protect(request: Request) -> None:
    """Every state-changing request must carry the session's CSRF token: 403 otherwise."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    session = web_session(request)
    given = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    is_form = content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    if given is None and is_form and request.url.path not in UPLOAD_PATHS:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not csrf_matches(session, given):
        raise PageError(
            403,
            "This form has expired",
            "The form was sent without its security token, or with an old one. "
            "Go back, reload the page and try again.",
        )


def form_text(form: FormData, name: str) -> str:
    """A text field of a posted form; "" when missing or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def parse_day(value: str | None) -> date | None:
    """A day from the address, kept between FIRST_DAY and LAST_DAY (the pages add and
    subtract weeks and months)."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return None if day is None else min(max(day, FIRST_DAY), LAST_DAY)


async def posted_form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(posted_form)]


def current_user(request: Request, session: SessionDep) -> User:
    """The logged-in person, or LoginRequired (a redirect to the login page)."""
    ws = web_session(request)
    sessions = web_state(request).sessions
    user = session.get(User, ws.user_id) if ws.user_id else None
    if user is None or not sessions.is_current(ws, user):
        raise LoginRequired()
    sessions.touch(ws)
    return user


PageUser = Annotated[User, Depends(current_user)]


def _checked(user: User, role: Role) -> User:
    if not has_role(user, role):
        raise PageError(403, "Not allowed", refusal(user, role).capitalize() + ".")
    return user


def page_role(role: Role) -> Any:
    """A dependency that lets through logged-in people with `role` or a higher one."""

    def check(user: PageUser) -> User:
        return _checked(user, role)

    return Depends(check)


def page_role_briefly(role: Role) -> Any:
    """Like `page_role`, checked in a transaction of its own that ends before the endpoint
    runs: for endpoints that wait on something slow (an upload, a platform), during
    which the request's usual session would hold a connection (and SQLite's write lock)."""

    def check(request: Request) -> User:
        runtime = runtime_of(request)
        with transaction(runtime.sessions) as session:
            user = current_user(request, session)
        return _checked(user, role)

    return Depends(check)


# Cookie-session web pages. (Bearer-token API routes use ApiViewer & co. from app.deps;
# both read the one role table in app.users.roles.)
PageViewer = Annotated[User, page_role(Role.viewer)]
PageContributor = Annotated[User, page_role(Role.contributor)]
PageEditor = Annotated[User, page_role(Role.editor)]
PageAdmin = Annotated[User, page_role(Role.admin)]
PageBriefContributor = Annotated[User, page_role_briefly(Role.contributor)]
PageBriefEditor = Annotated[User, page_role_briefly(Role.editor)]
PageBriefAdmin = Annotated[User, page_role_briefly(Role.admin)]


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def user_zone_name(user: User | None, runtime: Runtime) -> str:
    return (user.timezone if user is not None else None) or runtime.settings.timezone


def user_zone(user: User | None, runtime: Runtime) -> ZoneInfo:
    return ZoneInfo(user_zone_name(user, runtime))


def local_today(user: User, runtime: Runtime) -> date:
    return runtime.clock.now().astimezone(user_zone(user, runtime)).date()


def _open_alerts(session: Session) -> int:
    return session.scalar(select(func.count()).where(Alert.status == AlertStatus.open)) or 0


# Pages are never framed (clickjacking), scripts come only from /static, and forms
# post only here. Inline styles carry the objectives' colours.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

NOTICES = {
    "saved": "Saved.",
    "scheduled": "The post is scheduled.",
    "submitted": "The post is submitted: it goes out once an editor approves it.",
    "approved": "The post is approved and scheduled.",
    "rejected": "The post is sent back to its author as a draft, with your comment.",
    "commented": "Your comment is added.",
    "guardrail": "The guardrail is saved.",
    "guardrail_deleted": "The guardrail is removed.",
    "draft": "The draft is saved.",
    "cancelled": "The post is cancelled.",
    "retrying": "The delivery is back in the queue.",
    "acknowledged": "The alert is acknowledged.",
    "password": "The password is set.",
    "channel": "The channel is saved.",
    "disabled": "The channel is disabled.",
    "enabled": "The channel is active again.",
    "tested": "Connection tested.",
    "connected": "The account is connected.",
    "imported": "The posts are imported.",
    "paused": "Publishing is paused.",
    "resumed": "Publishing has resumed.",
}


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    user: User | None = None,
    session: Session | None = None,
    status: int = 200,
) -> HTMLResponse:
    runtime = runtime_of(request)
    ws = web_session(request)
    zone = user_zone(user, runtime)
    base = {
        "user": user,
        "csrf_token": ws.csrf,
        "zone": zone,
        "zone_name": user_zone_name(user, runtime),
        "open_alerts": _open_alerts(session) if session is not None and user else 0,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        # can_write: may compose posts (contributors too); can_edit: editors' rights.
        "can_write": user is not None and has_role(user, Role.contributor),
        "can_edit": user is not None and has_role(user, Role.editor),
        "is_admin": user is not None and has_role(user, Role.admin),
        "path": request.url.path,
        # planning: the pause switch in every page's header.
        "pause": pause.pause_state(runtime, session) if user else None,
    }
    response = templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status
    )
    response.headers.update(SECURITY_HEADERS)
    if ws.dirty:
        web_state(request).sessions.write(request, response, ws)
    return response


def redirect(url: str, *, notice: str | None = None) -> RedirectResponse:
    if notice:
        url += ("&" if "?" in url else "?") + f"notice={quote(notice)}"
    return RedirectResponse(url, status_code=303)


def field_errors(problems: list[FieldProblem]) -> dict[str, list[str]]:
    """Problems by form field: ("body", "channel_ids", 2) -> "channel_ids"."""
    out: dict[str, list[str]] = {}
    for p in problems:
        parts = [str(x) for x in p.loc if x not in ("body", "query")]
        name = parts[0] if parts else "form"
        # config/credentials problems name the field inside: "config.url".
        if name in ("config", "credentials") and len(parts) > 1:
            name = f"{name}.{parts[1]}"
        # pydantic's "Value error, must be..." reads better without its prefix.
        out.setdefault(name, []).append(p.msg.removeprefix("Value error, "))
    return out


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/web/")
        or "application/json" in request.headers.get("accept", "").split(",")[0]
    )


def install_handlers(app: Any) -> None:
    async def page_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, PageError):
            raise exc
        if wants_json(request):
            return JSONResponse(
                {"detail": exc.title + (": " + exc.detail if exc.detail else "")},
                status_code=exc.status,
            )
        return templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": exc.title,
                "detail": exc.detail,
                "status": exc.status,
                "user": None,
                "csrf_token": "",
                "path": request.url.path,
            },
            status_code=exc.status,
            headers=SECURITY_HEADERS,
        )

    async def login_required(request: Request, exc: Exception) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(LoginRequired, login_required)


def format_local(value: datetime | None, zone: ZoneInfo, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(zone).strftime(fmt)


templates.env.filters["local"] = format_local


def safe_url(value: str | None) -> str:
    """Only http(s) links are rendered as links (never javascript: or data:)."""
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return "#"


templates.env.filters["safe_url"] = safe_url
