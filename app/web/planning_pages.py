"""Planning on the web pages: the pause switch shown on every page (for editors)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.channels import service as channels
from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import Conflict, InvalidInput, NotFound
from app.objectives import service as objectives
from app.planning import library, pause, slots
from app.planning.schemas import PauseIn, SlotIn
from app.users.models import User
from app.web.infrastructure import (
    FormDep,
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


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _slots_page(
    request: Request,
    session: Session,
    user: User,
    objective_id: str,
    *,
    rows: list[dict[str, Any]] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response:
    try:
        objective = objectives.get(session, objective_id)
    except NotFound:
        raise PageError(404, "No such objective", f"objective {objective_id} not found") from None
    if rows is None:
        found = slots.of(session, objective_id)
        rows = [
            {
                "times": ", ".join(s.time for s in found if s.weekday == day),
                "channels": {c for s in found if s.weekday == day for c in s.channel_ids},
            }
            for day in range(7)
        ]
    every_channel, _ = channels.list_(session, platform=None, status=None, limit=1000, offset=0)
    return render(
        request,
        "slots.html",
        {
            "objective": objective,
            "weekdays": WEEKDAY_NAMES,
            "rows": rows,
            "channels": every_channel,
            "errors": errors or {},
        },
        user=user,
        session=session,
        status=status,
    )


@router.get("/objectives/{objective_id}/slots")
def slots_page(
    objective_id: str, request: Request, session: SessionDep, user: PageViewer
) -> Response:
    """The objective's weekly posting slots as a grid: a row per weekday."""
    return _slots_page(request, session, user, objective_id)


def _posted_slots(form: Any) -> tuple[list[dict[str, Any]], list[SlotIn], dict[str, list[str]]]:
    rows: list[dict[str, Any]] = []
    wanted: list[SlotIn] = []
    errors: dict[str, list[str]] = {}
    for day in range(7):
        times = form_text(form, f"times-{day}")
        chosen = [v for v in form.getlist(f"channels-{day}") if isinstance(v, str) and v]
        rows.append({"times": times, "channels": set(chosen)})
        seen: set[str] = set()
        for at in (t.strip() for t in times.split(",")):
            if not at:
                continue
            if at in seen:
                errors.setdefault(f"times-{day}", []).append(
                    f"{at} is given twice: the same weekday and time as another slot"
                )
                continue
            seen.add(at)
            try:
                wanted.append(SlotIn(weekday=day, time=at, channel_ids=chosen))
            except ValidationError:
                errors.setdefault(f"times-{day}", []).append(
                    f"{at[:20]!r} is not a time from 00:00 to 23:59 (HH:MM)"
                )
    return rows, wanted, errors


@router.post("/objectives/{objective_id}/slots")
def save_slots(
    objective_id: str, request: Request, session: SessionDep, user: PageEditor, form: FormDep
) -> Response:
    rows, wanted, errors = _posted_slots(form)
    if not errors:
        try:
            slots.replace(session, objective_id, wanted)
        except InvalidInput as exc:
            for problem in exc.problems:
                index = problem.loc[1] if len(problem.loc) > 1 else 0
                day = wanted[index].weekday if isinstance(index, int) and index < len(wanted) else 0
                errors.setdefault(f"times-{day}", []).append(problem.msg)
        except NotFound:
            raise PageError(404, "No such objective", objective_id) from None
    if errors:
        return _slots_page(
            request, session, user, objective_id, rows=rows, errors=errors, status=422
        )
    return redirect(f"/objectives/{objective_id}/slots", notice="saved")
