from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.deps import NowDep, RuntimeDep, SessionDep, Viewer
from app.errors import FieldProblem, InvalidInput
from app.reports.service import ChannelReport, ObjectiveReport, channel_reports, objective_reports
from app.schemas import Day

router = APIRouter(prefix="/reports", tags=["reports"])
MAX_DAYS = 366


class ObjectivesReportOut(BaseModel):
    start: date
    end: date
    objectives: list[ObjectiveReport]
    channels: list[ChannelReport]


@router.get("/objectives", response_model=ObjectivesReportOut)
def objectives_report(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    _: Viewer,
    from_: Annotated[Day, Query(alias="from")],
    to: Day,
    format: Literal["json", "csv"] | None = None,
) -> Response | ObjectivesReportOut:
    """Per objective: required, planned, published and failed posts, the share of required
    days covered and the longest run of uncovered ones; per channel: published, failed and
    the median lag. CSV with `Accept: text/csv` or `?format=csv`."""
    if to < from_:
        raise InvalidInput([FieldProblem(("query", "to"), "must not be before from")])
    if (to - from_).days >= MAX_DAYS:
        raise InvalidInput([FieldProblem(("query", "to"), f"at most {MAX_DAYS} days at a time")])
    objectives = objective_reports(session, start=from_, end=to, now=now)
    channels = channel_reports(session, start=from_, end=to, zone=runtime.settings.timezone)
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
    return ObjectivesReportOut(start=from_, end=to, objectives=objectives, channels=channels)


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
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for o in objectives:
        writer.writerow({"section": "objective", "id": o.objective_id, **asdict(o)})
    for c in channels:
        writer.writerow({"section": "channel", "id": c.channel_id, **asdict(c)})
    return out.getvalue()
