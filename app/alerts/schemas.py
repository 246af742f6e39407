from __future__ import annotations

from datetime import date, datetime

from app.schemas import Output


class AlertOut(Output):
    id: str
    kind: str
    status: str
    message: str
    objective_id: str | None
    day: date | None
    post_id: str | None
    delivery_id: str | None
    channel_id: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: str | None
    resolved_at: datetime | None
    resolution_note: str | None = None
