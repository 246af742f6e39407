"""Posts pending approval per objective-day: coverage answers count them apart
(`pending`), never as planned, so a heatmap can say "covered if approved"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.objectives.models import Objective
from app.posts.models import Delivery, DeliveryStatus, Post, PostKind, PostState, post_objectives


def pending_counts(
    session: Session, objectives: Sequence[Objective], start: date, end: date
) -> dict[tuple[str, date], int]:
    """{(objective id, local day): posts pending approval}, for days start..end included;
    a post whose time passed while it waited (missed window) is not pending any more."""
    if not objectives:
        return {}
    zones = {o.id: ZoneInfo(o.timezone) for o in objectives}
    # A day either side: every zone's local day falls inside these UTC bounds.
    low = datetime.combine(start - timedelta(days=1), time(0), UTC)
    high = datetime.combine(end + timedelta(days=2), time(0), UTC)
    failed = exists().where(Delivery.post_id == Post.id, Delivery.status == DeliveryStatus.failed)
    rows = session.execute(
        select(post_objectives.c.objective_id, Post.scheduled_at)
        .join(Post, Post.id == post_objectives.c.post_id)
        .where(
            post_objectives.c.objective_id.in_(list(zones)),
            Post.state == PostState.pending_approval,
            Post.kind == PostKind.post,
            Post.scheduled_at >= low,
            Post.scheduled_at < high,
            ~failed,
        )
    ).all()
    counted: Counter[tuple[str, date]] = Counter()
    for objective_id, at in rows:
        day = at.astimezone(zones[objective_id]).date()
        if start <= day <= end:
            counted[(objective_id, day)] += 1
    return dict(counted)
