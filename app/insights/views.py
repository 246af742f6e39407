from __future__ import annotations

from fastapi import APIRouter

from app.deps import ApiViewer, SessionDep
from app.insights import service
from app.insights.schemas import MetricReadingOut
from app.pagination import Page, PageDep

router = APIRouter(tags=["insights"])


@router.get("/deliveries/{delivery_id}/metrics")
def delivery_metrics(
    delivery_id: str, session: SessionDep, page: PageDep, _: ApiViewer
) -> Page[MetricReadingOut]:
    """The delivery's engagement readings (1 h, 6 h, 24 h, 3 d, 7 d and 30 d after
    publishing, and any `cadence metrics collect`), oldest first."""
    items, total = service.series(session, delivery_id, limit=page.limit, offset=page.offset)
    return Page(items=items, total=total)
