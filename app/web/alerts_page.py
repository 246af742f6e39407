"""The alerts page: open, acknowledged and lately resolved alerts; acknowledging one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.alerts import service as alerts
from app.alerts.announce import Times, alert_link, by_objective, is_urgent
from app.alerts.models import AlertStatus
from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import Conflict, NotFound
from app.objectives.models import Objective
from app.planning import library
from app.web.infrastructure import (
    PageEditor,
    PageError,
    PageViewer,
    csrf_protect,
    redirect,
    render,
    runtime_of,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


@router.get("/alerts")
def alerts_page(request: Request, session: SessionDep, now: NowDep, user: PageViewer) -> Response:
    """Open alerts in two parts, as the messages say them: what needs action now, and
    what waits for the daily summary; each part grouped by objective."""
    found = {}
    for status, limit in (
        (AlertStatus.open, 200),
        (AlertStatus.acknowledged, 200),
        (AlertStatus.resolved, 50),
    ):
        found[status] = alerts.list_(session, status=status, kind=None, limit=limit, offset=0)
    every = [a for items, _ in found.values() for a in items]
    objectives = {
        o.id: o
        for o in session.scalars(
            select(Objective).where(Objective.id.in_({a.objective_id for a in every}))
        )
    }
    names = {oid: o.name for oid, o in objectives.items()}
    times = Times.of(runtime_of(request).settings)
    opened, open_total = found[AlertStatus.open]
    urgent = [
        a
        for a in opened
        if is_urgent(a, objectives.get(a.objective_id or ""), now=now, times=times)
    ]
    later = [a for a in opened if a not in urgent]
    sections = [
        ("open-now", "open", "Needs action now", by_objective(urgent, names), len(urgent)),
        (
            "open-later",
            "open",
            "Not covered yet (in the daily summary)",
            by_objective(later, names),
            open_total - len(urgent),
        ),
    ]
    for status, title in (
        (AlertStatus.acknowledged, "Acknowledged"),
        (AlertStatus.resolved, "Resolved lately"),
    ):
        items, total = found[status]
        sections.append((status.value, status.value, title, by_objective(items, names), total))
    # planning: the "Fill with ..." action of uncovered days (auto-fill "suggest").
    fills = library.suggestions(
        session,
        [*opened, *found[AlertStatus.acknowledged][0]],
        now=now,
        cooldown=library.cooldown(runtime_of(request)),
    )
    return render(
        request,
        "alerts.html",
        {"sections": sections, "link": lambda a: alert_link(a, ""), "fills": fills},
        user=user,
        session=session,
    )


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: str, session: SessionDep, now: NowDep, user: PageEditor) -> Response:
    try:
        alerts.acknowledge(session, alert_id=alert_id, user=user, now=now)
    except NotFound as exc:
        raise PageError(404, "No such alert", str(exc)) from None
    except Conflict as exc:
        raise PageError(409, "Cannot acknowledge", exc.message) from None
    return redirect("/alerts", notice="acknowledged")
