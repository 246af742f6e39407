from __future__ import annotations

from fastapi import APIRouter

from app.alerts import service
from app.alerts.models import AlertKind, AlertStatus
from app.alerts.schemas import AlertOut
from app.deps import ApiEditor, ApiViewer, NowDep, SessionDep
from app.pagination import Page, PageDep

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("")
def list_alerts(
    session: SessionDep,
    page: PageDep,
    _: ApiViewer,
    status: AlertStatus | None = None,
    kind: AlertKind | None = None,
) -> Page[AlertOut]:
    items, total = service.list_(
        session, status=status, kind=kind, limit=page.limit, offset=page.offset
    )
    return Page(items=[AlertOut.model_validate(a) for a in items], total=total)


@router.post("/{alert_id}/acknowledge")
def acknowledge_alert(alert_id: str, session: SessionDep, now: NowDep, user: ApiEditor) -> AlertOut:
    return AlertOut.model_validate(
        service.acknowledge(session, alert_id=alert_id, user=user, now=now)
    )
