"""Reports per objective (coverage over a period) and per channel (what went out, how late)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.coverage.days import day_bounds
from app.coverage.service import cells
from app.insights.report_figures import EngagementFigures, PeriodFigures
from app.objectives.models import Objective
from app.posts.models import Delivery, DeliveryStatus, Post, PostKind


@dataclass(frozen=True)
class ObjectiveReport:
    objective_id: str
    name: str
    required: int
    planned: int
    published: int
    failed: int
    required_days: int
    covered_days: int
    covered_percent: float | None
    longest_uncovered_streak: int
    # Filled in by app.insights.report_figures (the view attaches them).
    engagement: EngagementFigures = field(default_factory=EngagementFigures)
    engagement_by_period: list[PeriodFigures] = field(default_factory=list)


@dataclass(frozen=True)
class ChannelReport:
    channel_id: str
    name: str
    platform: str
    published: int
    failed: int
    median_lag_seconds: float | None
    engagement: EngagementFigures = field(default_factory=EngagementFigures)
    engagement_by_period: list[PeriodFigures] = field(default_factory=list)


def objective_reports(
    session: Session, *, start: date, end: date, now: datetime
) -> list[ObjectiveReport]:
    objectives = list(session.scalars(select(Objective).order_by(Objective.name)))
    by_objective: dict[str, list] = {o.id: [] for o in objectives}
    for cell in cells(session, objectives, start, end, now=now):
        by_objective[cell.objective_id].append(cell)
    reports = []
    for objective in objectives:
        days = sorted(by_objective[objective.id], key=lambda c: c.day)
        required_days = [c for c in days if c.required > 0]
        covered = [c for c in required_days if c.covered]
        streak = longest = 0
        for cell in required_days:
            streak = 0 if cell.covered else streak + 1
            longest = max(longest, streak)
        reports.append(
            ObjectiveReport(
                objective_id=objective.id,
                name=objective.name,
                required=sum(c.required for c in days),
                planned=sum(c.planned for c in days),
                published=sum(c.published for c in days),
                failed=sum(c.failed for c in days),
                required_days=len(required_days),
                covered_days=len(covered),
                covered_percent=round(100 * len(covered) / len(required_days), 1)
                if required_days
                else None,
                longest_uncovered_streak=longest,
            )
        )
    return reports


def channel_reports(session: Session, *, start: date, end: date, zone: str) -> list[ChannelReport]:
    """Deliveries of posts scheduled from start to end (days in `zone`, both included)."""
    low, high = day_bounds(start, zone)[0], day_bounds(end, zone)[1]
    in_range = (
        select(Delivery.channel_id, Delivery.status, Delivery.published_at, Post.scheduled_at)
        .join(Post, Post.id == Delivery.post_id)
        .where(Post.kind == PostKind.post, Post.scheduled_at >= low, Post.scheduled_at < high)
        .subquery()
    )
    totals = {
        (row.channel_id, row.status): row.n
        for row in session.execute(
            select(in_range.c.channel_id, in_range.c.status, func.count().label("n")).group_by(
                in_range.c.channel_id, in_range.c.status
            )
        )
    }
    lags: dict[str, list[float]] = {}
    for channel_id, published_at, scheduled_at in session.execute(
        select(in_range.c.channel_id, in_range.c.published_at, in_range.c.scheduled_at).where(
            in_range.c.status == DeliveryStatus.published
        )
    ):
        lags.setdefault(channel_id, []).append(
            max(0.0, (published_at - scheduled_at).total_seconds())
        )
    channels = session.scalars(select(Channel).order_by(Channel.name, Channel.id))
    return [
        ChannelReport(
            channel_id=c.id,
            name=c.name,
            platform=c.platform,
            published=totals.get((c.id, DeliveryStatus.published), 0),
            failed=totals.get((c.id, DeliveryStatus.failed), 0),
            median_lag_seconds=round(statistics.median(lags[c.id]), 3) if c.id in lags else None,
        )
        for c in channels
    ]
