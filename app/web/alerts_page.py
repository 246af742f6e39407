"""The alerts page: open, acknowledged and lately resolved alerts; acknowledging one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.alerts import service as alerts
from app.alerts.announce import alert_link
from app.alerts.models import AlertStatus
from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import Conflict, NotFound
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
    sections = []
    for status, title, limit in (
        (AlertStatus.open, "Open", 200),
        (AlertStatus.acknowledged, "Acknowledged", 200),
        (AlertStatus.resolved, "Resolved lately", 50),
    ):
        items, total = alerts.list_(session, status=status, kind=None, limit=limit, offset=0)
        sections.append((status.value, title, items, total))
    # planning: the "Fill with ..." action of uncovered days (auto-fill "suggest").
    unresolved = [a for _, _, items, _ in sections[:2] for a in items]
    fills = library.suggestions(
        session, unresolved, now=now, cooldown=library.cooldown(runtime_of(request))
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
