from __future__ import annotations

import csv
import io
from dataclasses import asdict, replace
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.deps import ApiViewer, NowDep, RuntimeDep, SessionDep
from app.errors import FieldProblem, InvalidInput
from app.insights.report_figures import FIELDS as ENGAGEMENT_FIELDS
from app.insights.report_figures import report_figures
from app.reports.service import ChannelReport, ObjectiveReport, channel_reports, objective_reports
from app.schemas import Day
from app.spreadsheet import safe_row

router = APIRouter(prefix="/reports", tags=["reports"])
MAX_DAYS = 366


class ObjectivesReportOut(BaseModel):
    start: date
    end: date
    by: Literal["week", "month"]
    objectives: list[ObjectiveReport]
    channels: list[ChannelReport]


@router.get(
    "/objectives",
    response_model=ObjectivesReportOut,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def objectives_report(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    _: ApiViewer,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    by: Literal["week", "month"] = "week",
    format: Literal["json", "csv"] | None = None,
) -> Response | ObjectivesReportOut:
    """Per objective: required, planned, published and failed posts, the share of required
    days covered and the longest run of uncovered ones; per channel: published, failed and
    the median lag. Both with their engagement (posts, likes, reposts, replies, views,
    clicks, engagement, the median per post, the best post) over the days and per week
    or month (`by`). CSV with `Accept: text/csv` or `?format=csv`."""
    if to < from_:
        raise InvalidInput([FieldProblem(("query", "to"), "must not be before from")])
    if (to - from_).days >= MAX_DAYS:
        raise InvalidInput([FieldProblem(("query", "to"), f"at most {MAX_DAYS} days at a time")])
    objectives = objective_reports(session, start=from_, end=to, now=now)
    channels = channel_reports(session, start=from_, end=to, zone=runtime.settings.timezone)
    figures = report_figures(
        session, start=from_, end=to, zone=runtime.settings.timezone, period=by
    )
    objectives = [
        replace(
            o,
            engagement=figures.total("objective", o.objective_id),
            engagement_by_period=figures.by_period("objective", o.objective_id),
        )
        for o in objectives
    ]
    channels = [
        replace(
            c,
            engagement=figures.total("channel", c.channel_id),
            engagement_by_period=figures.by_period("channel", c.channel_id),
        )
        for c in channels
    ]
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(
            _csv(objectives, channels),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="cadence-report-{from_}-{to}.csv"'
            },
        )
    return ObjectivesReportOut(start=from_, end=to, by=by, objectives=objectives, channels=channels)


def _csv(objectives: list[ObjectiveReport], channels: list[ChannelReport]) -> str:
    columns = [
        "section",
        "id",
        "name",
        "platform",
        "required",
        "planned",
        "published",
        "failed",
        "required_days",
        "covered_days",
        "covered_percent",
        "longest_uncovered_streak",
        "median_lag_seconds",
        "period_start",
        *ENGAGEMENT_FIELDS,
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for o in objectives:
        _rows(writer, "objective", o.objective_id, o)
    for c in channels:
        _rows(writer, "channel", c.channel_id, c)
    return out.getvalue()


def _rows(
    writer: csv.DictWriter[str], section: str, ident: str, report: ObjectiveReport | ChannelReport
) -> None:
    """A row of totals, then one per week or month (its `section` ends in `_period`),
    each with the engagement figures flattened into columns."""
    head = {"section": section, "id": ident, "name": report.name}
    writer.writerow(safe_row({**asdict(report), **asdict(report.engagement), **head}))
    for period in report.engagement_by_period:
        writer.writerow(safe_row({**head, "section": f"{section}_period", **asdict(period)}))
