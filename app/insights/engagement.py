"""Engagement by objective and by channel, per week or month: totals, the median per
post, the best post, clicks. Read from each published delivery's latest reading and
its tracked links' clicks until now.

A post's engagement is likes + reposts + replies + clicks (views are counted apart:
not every platform gives them, and they would swamp the rest). For an objective a
post counts once, its deliveries' figures added up; for a channel, each delivery is
a post.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.coverage.days import day_bounds
from app.insights.models import DeliveryMetric, TrackedLink
from app.objectives.models import Objective
from app.posts.models import Delivery, DeliveryStatus, Post, PostKind, post_objectives

Period = Literal["week", "month"]
FIGURES = ("likes", "reposts", "replies", "views", "clicks")


@dataclass
class Figures:
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    views: int = 0
    clicks: int = 0

    @property
    def engagement(self) -> int:
        return self.likes + self.reposts + self.replies + self.clicks

    def add(self, other: Figures) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class DeliveryFigures:
    delivery_id: str
    post_id: str
    channel_id: str
    day: date  # local day it was published
    title: str  # the post's title, or the start of its text
    figures: Figures


@dataclass(frozen=True)
class PostFigures:
    post_id: str
    title: str
    day: date
    likes: int
    reposts: int
    replies: int
    views: int
    clicks: int
    engagement: int


@dataclass
class Row:
    """One objective or channel in one period."""

    kind: Literal["objective", "channel"]
    id: str
    name: str
    period_start: date
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
    _per_post: list[PostFigures] = field(default_factory=list, repr=False)


def period_start(day: date, period: Period) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def _short(title: str | None, text: str) -> str:
    if title:
        return title
    words = " ".join(text.split())
    return words if len(words) <= 60 else words[:59] + "…"


def delivery_figures(
    session: Session, *, start: date, end: date, zone: str
) -> list[DeliveryFigures]:
    """Every delivery of a post (not an alert) published from start to end (local days,
    both included) with its latest figures and clicks."""
    low, high = day_bounds(start, zone)[0], day_bounds(end, zone)[1]
    rows = session.execute(
        select(Delivery.id, Delivery.post_id, Delivery.channel_id, Delivery.published_at)
        .add_columns(Post.title, Post.text)
        .join(Post, Post.id == Delivery.post_id)
        .where(
            Post.kind == PostKind.post,
            Delivery.status == DeliveryStatus.published,
            Delivery.published_at >= low,
            Delivery.published_at < high,
        )
    ).all()
    ids = [row.id for row in rows]
    latest = _latest_readings(session, ids)
    clicks = _clicks(session, ids)
    tz = ZoneInfo(zone)
    found = []
    for row in rows:
        figures = latest.get(row.id, Figures())
        figures.clicks = clicks.get(row.id, figures.clicks)
        found.append(
            DeliveryFigures(
                delivery_id=row.id,
                post_id=row.post_id,
                channel_id=row.channel_id,
                day=row.published_at.astimezone(tz).date(),
                title=_short(row.title, row.text),
                figures=figures,
            )
        )
    return found


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[list[str]]:
    for at in range(0, len(ids), size):
        yield list(ids[at : at + size])


def _latest_readings(session: Session, ids: Sequence[str]) -> dict[str, Figures]:
    found: dict[str, Figures] = {}
    for chunk in _chunks(ids):
        newest = (
            select(DeliveryMetric.delivery_id, func.max(DeliveryMetric.fetched_at).label("at"))
            .where(DeliveryMetric.delivery_id.in_(chunk))
            .group_by(DeliveryMetric.delivery_id)
            .subquery()
        )
        for reading in session.scalars(
            select(DeliveryMetric).join(
                newest,
                (newest.c.delivery_id == DeliveryMetric.delivery_id)
                & (newest.c.at == DeliveryMetric.fetched_at),
            )
        ):
            found[reading.delivery_id] = Figures(
                **{name: getattr(reading, name) or 0 for name in FIGURES}
            )
    return found


def _clicks(session: Session, ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(ids):
        for delivery_id, total in session.execute(
            select(TrackedLink.delivery_id, func.sum(TrackedLink.clicks))
            .where(TrackedLink.delivery_id.in_(chunk))
            .group_by(TrackedLink.delivery_id)
        ):
            found[delivery_id] = int(total or 0)
    return found


def objectives_of(session: Session, post_ids: Iterable[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    ids = list(set(post_ids))
    for chunk in _chunks(ids):
        for post_id, objective_id in session.execute(
            select(post_objectives.c.post_id, post_objectives.c.objective_id).where(
                post_objectives.c.post_id.in_(chunk)
            )
        ):
            found[post_id].append(objective_id)
    return found


def per_post(items: Iterable[DeliveryFigures]) -> list[PostFigures]:
    """Deliveries added up per post."""
    sums: dict[str, Figures] = {}
    first: dict[str, DeliveryFigures] = {}
    for item in items:
        sums.setdefault(item.post_id, Figures()).add(item.figures)
        first.setdefault(item.post_id, item)
    return [
        PostFigures(
            post_id=post_id,
            title=first[post_id].title,
            day=first[post_id].day,
            engagement=figures.engagement,
            **{name: getattr(figures, name) for name in FIGURES},
        )
        for post_id, figures in sums.items()
    ]


def top_posts(posts: Iterable[PostFigures], n: int = 5) -> list[PostFigures]:
    return sorted(posts, key=lambda p: (-p.engagement, -p.views, p.day, p.post_id))[:n]


def _row(kind: Literal["objective", "channel"], ident: str, name: str, start: date) -> Row:
    return Row(kind=kind, id=ident, name=name, period_start=start)


def _finish(row: Row) -> Row:
    posts = row._per_post
    row.posts = len(posts)
    for name in FIGURES:
        setattr(row, name, sum(getattr(p, name) for p in posts))
    row.engagement = sum(p.engagement for p in posts)
    if posts:
        row.median_engagement = float(statistics.median(p.engagement for p in posts))
        best = top_posts(posts, 1)[0]
        row.best_post_id, row.best_post_title = best.post_id, best.title
        row.best_post_engagement = best.engagement
    return row


def report(
    session: Session, *, items: Sequence[DeliveryFigures], start: date, period: Period | None
) -> list[Row]:
    """Rows per objective and per channel, per period that has published posts, of
    `items` (from delivery_figures); `period` None: one row each for all of them
    (its period_start is `start`)."""
    objectives = {o.id: o.name for o in session.scalars(select(Objective))}
    channels = {c.id: c.name for c in session.scalars(select(Channel))}
    tagged = objectives_of(session, (i.post_id for i in items))
    by_objective: dict[tuple[str, date], list[DeliveryFigures]] = defaultdict(list)
    by_channel: dict[tuple[str, date], list[DeliveryFigures]] = defaultdict(list)
    for item in items:
        when = period_start(item.day, period) if period else start
        for objective_id in tagged.get(item.post_id, ()):
            by_objective[(objective_id, when)].append(item)
        by_channel[(item.channel_id, when)].append(item)
    rows = []
    for (objective_id, when), group in sorted(
        by_objective.items(), key=lambda kv: (objectives.get(kv[0][0], ""), kv[0][1])
    ):
        row = _row("objective", objective_id, objectives.get(objective_id, ""), when)
        row._per_post = per_post(group)
        rows.append(_finish(row))
    for (channel_id, when), group in sorted(
        by_channel.items(), key=lambda kv: (channels.get(kv[0][0], ""), kv[0][1])
    ):
        row = _row("channel", channel_id, channels.get(channel_id, ""), when)
        row._per_post = [
            PostFigures(
                post_id=i.post_id,
                title=i.title,
                day=i.day,
                engagement=i.figures.engagement,
                **{name: getattr(i.figures, name) for name in FIGURES},
            )
            for i in group
        ]
        rows.append(_finish(row))
    return rows


def local_now_day(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()
