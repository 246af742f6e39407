"""Each channel's copy of a post, made when its delivery is claimed for publishing:
the channel's own version (app/exchange/versions.py), the post's thread or first
comment and the parts of it already out (app/exchange/threads.py), then its tracked
links (app/exchange/utm.py). Three small queries per claimed batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exchange import threads, utm, versions
from app.exchange.utm import Tracking
from app.objectives.models import Objective
from app.posts.models import Post, post_objectives
from connectors.base import PublishRequest


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


@dataclass(frozen=True)
class Extras:
    """What a post adds to its channels' copies: versions, a thread, a first comment."""

    versions: versions.Versions
    thread: tuple[str, ...]
    first_comment: str | None


def extras_of(session: Session, post_ids: list[str]) -> dict[str, Extras]:
    if not post_ids:
        return {}
    rows = session.execute(
        select(Post.id, Post.versions, Post.thread, Post.first_comment).where(Post.id.in_(post_ids))
    )
    return {
        post_id: Extras(own or {}, tuple(thread or ()), comment)
        for post_id, own, thread, comment in rows
        if own or thread or comment
    }


class _Job(Protocol):
    @property
    def delivery_id(self) -> str: ...

    @property
    def channel_id(self) -> str: ...

    @property
    def platform(self) -> str: ...

    @property
    def request(self) -> PublishRequest: ...


J = TypeVar("J", bound=_Job)


def channel_copies(session: Session, jobs: Sequence[J]) -> list[J]:
    """The jobs with each request as its channel publishes it."""
    post_ids = list({job.request.post_id for job in jobs})
    tracked = tracking_of(session, post_ids)
    extras = extras_of(session, post_ids)
    done = threads.done_parts(session, [job.delivery_id for job in jobs])
    out = []
    for job in jobs:
        post_id = job.request.post_id
        more = extras.get(post_id)
        if post_id not in tracked and more is None and job.delivery_id not in done:
            out.append(job)
            continue
        request = job.request
        if more is not None:
            request = versions.apply(request, more.versions.get(job.channel_id))
            request = dataclasses.replace(
                request, thread=more.thread, first_comment=more.first_comment
            )
        request = utm.apply(request, job.platform, tracked.get(post_id))
        request = dataclasses.replace(request, done_parts=done.get(job.delivery_id, ()))
        changed: Any = dataclasses.replace(job, request=request)  # type: ignore[type-var]
        out.append(changed)
    return out
