"""Which posts' links are tracked, read for a batch of deliveries being published."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exchange.utm import Tracking
from app.objectives.models import Objective
from app.posts.models import Post, post_objectives


def tracking_of(session: Session, post_ids: list[str]) -> dict[str, Tracking]:
    """post id -> its tracking, for the posts that have it: the post allows it and one
    of its objectives turns it on (the first such one by name decides)."""
    if not post_ids:
        return {}
    rows = session.execute(
        select(post_objectives.c.post_id, Objective.name, Objective.utm_template)
        .join(Objective, Objective.id == post_objectives.c.objective_id)
        .join(Post, Post.id == post_objectives.c.post_id)
        .where(post_objectives.c.post_id.in_(post_ids), Objective.utm, Post.utm)
        .order_by(Objective.name, Objective.id)
    )
    found: dict[str, Tracking] = {}
    for post_id, name, template in rows:
        found.setdefault(post_id, Tracking(template, name))
    return found
