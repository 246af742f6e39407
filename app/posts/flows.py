"""What follows a change to posts, wherever it was made (the API or the web pages):
the coverage of the objective-days it touched is counted again at once, opening or
resolving their alerts, and the dispatcher is woken after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from app.coverage import service as coverage
from app.posts.models import Post
from app.posts.schemas import PostOut
from app.runtime import Runtime

# (objective id, the post's time): what a post counts towards.
Touch = tuple[str, datetime | None]


def touches(*posts: Post | PostOut | None) -> list[Touch]:
    """The objective-days posts count towards: pass a post as it was and as it is."""
    out: list[Touch] = []
    for post in posts:
        if isinstance(post, PostOut):
            out += [(oid, post.scheduled_at) for oid in post.objective_ids]
        elif post is not None:
            out += [(o.id, post.scheduled_at) for o in post.objectives]
    return out


def after_post_change(
    session: Session,
    runtime: Runtime,
    *,
    now: datetime,
    touched: Iterable[Touch],
    after: BackgroundTasks,
) -> list[coverage.Cell]:
    """Run in the change's transaction; answers the touched objective-days as they stand."""
    # Background tasks run after the commit, so the dispatcher sees the change.
    after.add_task(runtime.wake_dispatcher)
    return coverage.effect(
        session,
        touched=touched,
        now=now,
        lookahead_days=runtime.settings.coverage_lookahead_days,
    )
