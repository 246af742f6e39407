"""Planning on the web pages: the pause switch shown on every page (for editors)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import Conflict, InvalidInput, NotFound
from app.planning import library, pause
from app.planning.schemas import PauseIn
from app.web.infrastructure import (
    FormDep,
    PageEditor,
    PageError,
    csrf_protect,
    form_text,
    redirect,
    runtime_of,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


def _back(form_value: str) -> str:
    """Where the switch was used: a path of this site only."""
    if form_value.startswith("/") and not form_value.startswith("//") and "\\" not in form_value:
        return form_value
    return "/calendar"


@router.post("/pause")
def pause_publishing(session: SessionDep, now: NowDep, user: PageEditor, form: FormDep) -> Response:
    try:
        data = PauseIn(scope=form_text(form, "scope"), reason=form_text(form, "reason"))  # type: ignore[arg-type]
    except ValidationError:
        raise PageError(
            422,
            "Not paused",
            "Choose what to pause (every post, or external channels) and give a reason.",
        ) from None
    pause.pause(session, data=data, user=user, now=now)
    return redirect(_back(form_text(form, "back")), notice="paused")


@router.post("/pause/resume")
def resume_publishing(session: SessionDep, now: NowDep, _: PageEditor, form: FormDep) -> Response:
    pause.resume(session, now=now)
    return redirect(_back(form_text(form, "back")), notice="resumed")


@router.post("/alerts/{alert_id}/fill")
def fill_alert(
    alert_id: str, request: Request, session: SessionDep, now: NowDep, user: PageEditor
) -> Response:
    """The alerts page's "Fill with ...": the day filled from the evergreen library."""
    try:
        post = library.fill_alert(
            session, runtime_of(request), alert_id=alert_id, user=user, now=now
        )
    except NotFound as exc:
        raise PageError(404, "No such alert", str(exc)) from None
    except Conflict as exc:
        raise PageError(409, "Cannot fill the day", exc.message) from None
    except InvalidInput as exc:
        raise PageError(422, "Cannot fill the day", str(exc)) from None
    return redirect(f"/posts/{post.id}", notice="scheduled")
