"""Each channel's copy of a post, made when its delivery is claimed for publishing:
the channel's own version (app/exchange/versions.py), then its tracked links
(app/exchange/utm.py). Two small queries per claimed batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exchange import utm, versions
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


def versions_of(session: Session, post_ids: list[str]) -> dict[str, versions.Versions]:
    if not post_ids:
        return {}
    rows = session.execute(select(Post.id, Post.versions).where(Post.id.in_(post_ids)))
    return {post_id: found for post_id, found in rows if found}


class _Job(Protocol):
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
    own = versions_of(session, post_ids)
    out = []
    for job in jobs:
        post_id = job.request.post_id
        if post_id not in tracked and post_id not in own:
            out.append(job)
            continue
        request = versions.apply(job.request, own.get(post_id, {}).get(job.channel_id))
        request = utm.apply(request, job.platform, tracked.get(post_id))
        changed: Any = dataclasses.replace(job, request=request)  # type: ignore[type-var]
        out.append(changed)
    return out
