"""What follows a change to posts, wherever it was made (the API or the web pages):
the coverage of the objective-days it touched is counted again at once, opening or
resolving their alerts, and the dispatcher is woken after the commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi import BackgroundTasks
from sqlalchemy.orm import Session

from app.coverage import service as coverage
from app.posts import service
from app.posts.models import Post
from app.posts.rules import run_outside_transaction
from app.posts.schemas import PostCreate, PostOut, PostUpdate
from app.runtime import Runtime
from app.team import hooks as team
from app.users.models import User

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


# Writes whose platform rules run with no transaction open (see app/posts/rules.py):
# plan in a read phase, run the rules, then write under a savepoint, so a refused post
# leaves the request's session usable (the web pages render the form again with it).


def create_post(
    session: Session,
    runtime: Runtime,
    *,
    data: PostCreate,
    user: User,
    now: datetime,
    before_write: Callable[[], None] | None = None,
) -> Post:
    """`before_write` runs first in the write transaction (planning: a queued post's
    slot is locked and checked there)."""
    where = _paths(runtime)
    rules = run_outside_transaction(
        session,
        lambda rules: service.check_create(session, data=data, now=now, rules=rules, **where),
    )
    if before_write is not None:
        before_write()
    with session.begin_nested():
        post = service.create(session, data=data, user=user, now=now, rules=rules, **where)
        team.after_write(session, post, user=user, settings=runtime.settings, before=None, now=now)
        return post


def create_posts(
    session: Session,
    runtime: Runtime,
    *,
    items: Sequence[PostCreate],
    user: User,
    now: datetime,
    before_write: Callable[[], None] | None = None,
    approved: bool = False,
) -> list[Post]:
    """`before_write` runs first in the write transaction (planning claims a series'
    extension there, so that one process writes it); `approved`: copies of an approved
    library post, scheduled without asking again."""
    where = _paths(runtime)
    rules = run_outside_transaction(
        session,
        lambda rules: service.check_create_many(
            session, items=items, user=user, now=now, rules=rules, **where
        ),
    )
    if before_write is not None:
        before_write()
    with session.begin_nested():
        posts = service.create_many(session, items=items, user=user, now=now, rules=rules, **where)
        team.after_writes(
            session, posts, user=user, settings=runtime.settings, now=now, approved=approved
        )
        return posts


def update_post(
    session: Session,
    runtime: Runtime,
    *,
    post_id: str,
    data: PostUpdate,
    user: User,
    now: datetime,
) -> Post:
    where = _paths(runtime)
    rules = run_outside_transaction(
        session,
        lambda rules: service.check_update(
            session, post_id=post_id, data=data, now=now, rules=rules, **where
        ),
    )
    with session.begin_nested():
        before = team.before_update(session, post_id)
        post = service.update(
            session, post_id=post_id, data=data, user=user, now=now, rules=rules, **where
        )
        # planning: an occurrence edited on its own no longer follows its series' edits.
        post.series_detached = post.series_id is not None
        team.after_write(
            session, post, user=user, settings=runtime.settings, before=before, now=now
        )
        return post


def _paths(runtime: Runtime) -> dict[str, Any]:
    """Where a post's media live and the base of its link: a publish request needs both."""
    return {"media_dir": runtime.settings.media_dir, "base_url": runtime.settings.base_url}
