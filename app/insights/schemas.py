from __future__ import annotations

from datetime import datetime

from app.schemas import Output


class MetricsOut(Output):
    """A delivery's figures: None where the platform has no such figure (or none was
    read yet). `clicks` counts people on the tracked links (bots apart); `gone`: the
    post was deleted on the platform and is no longer read."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    views: int | None = None
    clicks: int | None = None
    fetched_at: datetime | None = None
    gone: bool = False


class MetricReadingOut(Output):
    likes: int | None
    reposts: int | None
    replies: int | None
    views: int | None
    clicks: int | None
    fetched_at: datetime
