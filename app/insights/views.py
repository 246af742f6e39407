from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.deps import ApiViewer, RuntimeDep, SessionDep
from app.errors import FieldProblem, InvalidInput
from app.insights import engagement, service
from app.insights.schemas import MetricReadingOut
from app.pagination import Page, PageDep
from app.reports.views import MAX_DAYS
from app.schemas import Day
from app.spreadsheet import safe_row

router = APIRouter(tags=["insights"])


@router.get("/deliveries/{delivery_id}/metrics")
def delivery_metrics(
    delivery_id: str, session: SessionDep, page: PageDep, _: ApiViewer
) -> Page[MetricReadingOut]:
    """The delivery's engagement readings (1 h, 6 h, 24 h, 3 d, 7 d and 30 d after
    publishing, and any `cadence metrics collect`), oldest first."""
    items, total = service.series(session, delivery_id, limit=page.limit, offset=page.offset)
    return Page(items=items, total=total)


class EngagementRowOut(BaseModel):
    kind: Literal["objective", "channel"]
    id: str
    name: str
    period_start: date
    posts: int
    likes: int
    reposts: int
    replies: int
    views: int
    clicks: int
    engagement: int
    median_engagement: float | None
    best_post_id: str | None
    best_post_title: str | None
    best_post_engagement: int | None


class EngagementReportOut(BaseModel):
    start: date
    end: date
    by: Literal["week", "month"]
    rows: list[EngagementRowOut]


ENGAGEMENT_COLUMNS = list(EngagementRowOut.model_fields)


@router.get(
    "/reports/engagement",
    response_model=EngagementReportOut,
    tags=["reports"],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def engagement_report(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ApiViewer,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    by: Literal["week", "month"] = "week",
    format: Literal["json", "csv"] | None = None,
) -> Response | EngagementReportOut:
    """Engagement per objective and per channel, per week (from Monday) or month, of
    the posts published from `from` to `to`: posts, likes, reposts, replies, views,
    clicks, engagement (likes + reposts + replies + clicks), the median per post and
    the best post. CSV with `Accept: text/csv` or `?format=csv`."""
    if to < from_:
        raise InvalidInput([FieldProblem(("query", "to"), "must not be before from")])
    if (to - from_).days >= MAX_DAYS:
        raise InvalidInput([FieldProblem(("query", "to"), f"at most {MAX_DAYS} days at a time")])
    rows = engagement.report(
        session, start=from_, end=to, zone=runtime.settings.timezone, period=by
    )
    out = [EngagementRowOut.model_validate(row, from_attributes=True) for row in rows]
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=ENGAGEMENT_COLUMNS)
        writer.writeheader()
        for row in out:
            writer.writerow(safe_row(row.model_dump()))
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="cadence-engagement-{from_}-{to}.csv"'
            },
        )
    return EngagementReportOut(start=from_, end=to, by=by, rows=out)
