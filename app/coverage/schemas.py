from __future__ import annotations

from datetime import date

from app.alerts.schemas import AlertOut
from app.schemas import Output


class CoverageCellOut(Output):
    objective_id: str
    day: date
    required: int
    planned: int
    published: int
    covered: bool
    # Posts pending approval that day (app/team/pending.py): not in `planned`; the day
    # is "covered if approved" when planned + pending reaches required.
    pending: int = 0
    # Present when asked for with include=post_ids.
    planned_post_ids: list[str] | None = None
    published_post_ids: list[str] | None = None


class CoverageCheckOut(Output):
    opened: list[AlertOut]
    resolved: list[AlertOut]
