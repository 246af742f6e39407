"""The engagement part of the objective and channel reports (`GET /reports/objectives`):
for each objective and each channel, its totals over the report's days and the same
figures per week (from Monday) or month with published posts. The figures and how they
add up are `app.insights.engagement`'s (a post's engagement is likes + reposts +
replies + clicks; for an objective a post counts once).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.insights import engagement


@dataclass(frozen=True)
class EngagementFigures:
    posts: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    views: int = 0
    clicks: int = 0
    engagement: int = 0
    median_engagement: float | None = None
    best_post_id: str | None = None
    best_post_title: str | None = None
    best_post_engagement: int | None = None


@dataclass(frozen=True)
class PeriodFigures(EngagementFigures):
    period_start: date | None = None


FIELDS = list(EngagementFigures.__dataclass_fields__)


@dataclass
class ReportFigures:
    """(kind, id) -> the totals, and the per-period rows, oldest first."""

    totals: dict[tuple[str, str], EngagementFigures] = field(default_factory=dict)
    periods: dict[tuple[str, str], list[PeriodFigures]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def total(self, kind: str, ident: str) -> EngagementFigures:
        return self.totals.get((kind, ident), EngagementFigures())

    def by_period(self, kind: str, ident: str) -> list[PeriodFigures]:
        return list(self.periods.get((kind, ident), []))


def _figures(row: engagement.Row) -> dict[str, object]:
    return {name: getattr(row, name) for name in FIELDS}


def report_figures(
    session: Session, *, start: date, end: date, zone: str, period: engagement.Period
) -> ReportFigures:
    items = engagement.delivery_figures(session, start=start, end=end, zone=zone)
    found = ReportFigures()
    for row in engagement.report(session, items=items, start=start, period=None):
        found.totals[(row.kind, row.id)] = EngagementFigures(**_figures(row))  # type: ignore[arg-type]
    for row in engagement.report(session, items=items, start=start, period=period):
        found.periods[(row.kind, row.id)].append(
            PeriodFigures(period_start=row.period_start, **_figures(row))  # type: ignore[arg-type]
        )
    return found
