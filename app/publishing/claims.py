"""Claiming due deliveries: the step that makes publishing exactly-once.

A claim is one short transaction that turns due deliveries into `publishing`
with this worker's lease and commits before any network call. Claimers are
serialised (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN
IMMEDIATE), so the "is this channel busy" check below is exact, and rows locked
by a concurrent edit are skipped rather than waited for (SKIP LOCKED).

This runs many times a second under load, so it uses a few lean Core queries
whose statements are built once, not ORM loading.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased

from app.channels.models import Channel, ChannelStatus
from app.exchange.publishing import channel_copies
from app.insights.links import track_links
from app.media.models import Media
from app.objectives.models import Objective
from app.planning.pause import paused_scope
from app.posts.models import (
    PENDING,
    Delivery,
    DeliveryStatus,
    Post,
    PostKind,
    PostMedia,
    is_in_flight,
    is_pending,
    post_objectives,
)
from app.posts.requests import publish_request
from app.publishing import transitions
from app.publishing.outcomes import Failure, refuse_at_claim
from connectors.base import OutcomeKind, PublishRequest

# Any constant works; it only has to be the same in every Cadence process.
CLAIM_LOCK_KEY = 0x0CAD_E9CE


@dataclass(frozen=True)
class Job:
    """A claimed delivery with everything needed to publish it, detached from the session."""

    delivery_id: str
    channel_id: str
    platform: str
    channel_config: dict[str, object]
    credentials_encrypted: str
    request: PublishRequest
    due_at: datetime
    attempts: int
    channel_name: str = ""  # for the log line about the outcome


@lru_cache
def _due_query(per_channel: int, paused: str | None = None) -> Select[Any]:
    """Due deliveries, earliest first, keeping at most `per_channel` in flight on any channel.

    Driven by the channels table: for each channel, an index seek finds its next
    due deliveries (ix_deliveries_queue), so a claim costs the same whether a few
    or a hundred thousand deliveries are waiting. Parameters: now, limit (and
    held_before while paused: see _held).
    """
    busy = (
        select(Delivery.channel_id, func.count().label("n"))
        .where(is_in_flight(Delivery))
        .group_by(Delivery.channel_id)
        .subquery()
    )
    heads = []
    for position in range(per_channel):
        queued = aliased(Delivery)
        head = (
            select(queued.id)
            .where(
                queued.channel_id == Channel.id,
                is_pending(queued),
                queued.next_attempt_at <= bindparam("now"),
                *_held(queued, paused),
            )
            .order_by(queued.next_attempt_at, queued.id)
            .limit(1)
            .offset(position)
            .correlate(Channel)
            .scalar_subquery()
        )
        heads.append(
            select(head.label("id"))
            .select_from(Channel)
            .outerjoin(busy, busy.c.channel_id == Channel.id)
            .where(func.coalesce(busy.c.n, 0) + position < per_channel)
        )
    candidates = union_all(*heads).subquery()
    return (
        select(Delivery.id)
        .join(candidates, candidates.c.id == Delivery.id)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(bindparam("limit"))
    )


def _held(queued: Any, paused: str | None) -> list[ColumnElement[bool]]:
    """planning: while paused (app/planning/pause.py), the deliveries of the paused scope
    are found only once their window has passed (to end `missed_window` as usual);
    alert announcements are never held."""
    if paused is None:
        return []
    in_scope = Channel.audience != "internal" if paused == "external" else true()
    alert = exists().where(Post.id == queued.post_id, Post.kind == PostKind.alert)
    return [or_(~in_scope, alert, queued.next_attempt_at < bindparam("held_before"))]


@lru_cache
def _details_query(postgres: bool) -> Select[Any]:
    """The claimable deliveries among `ids`, with what publishing them needs."""
    query = (
        select(
            Delivery.id,
            Delivery.channel_id,
            Delivery.next_attempt_at,
            Delivery.attempts,
            Post.id.label("post_id"),
            Post.text,
            Post.title,
            Post.link,
            Post.scheduled_at,
            Post.internal_only,
            Channel.name.label("channel_name"),
            Channel.platform,
            Channel.audience,
            Channel.config,
            Channel.credentials_encrypted,
            Channel.status.label("channel_status"),
            Channel.status_reason,
            exists().where(PostMedia.post_id == Post.id).label("has_media"),
        )
        .join(Post, Post.id == Delivery.post_id)
        .join(Channel, Channel.id == Delivery.channel_id)
        .where(Delivery.id.in_(bindparam("ids", expanding=True)), is_pending(Delivery))
        .order_by(Delivery.next_attempt_at, Delivery.id)
    )
    if postgres:
        # Rows an edit or cancel holds are skipped now and picked up on a later tick.
        query = query.with_for_update(of=Delivery, skip_locked=True)
    return cast(Select[Any], query)


def claim_due(
    session: Session,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    per_channel: int,
    max_lateness: timedelta,
    media_dir: Path,
    base_url: str,
    reconnect_grace: timedelta | None = None,
) -> list[Job]:
    """Claim up to `limit` due deliveries for `owner`; fail the ones that may not go out."""
    if limit <= 0:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    # Core, not ORM, execution: these plain column reads run many times a second.
    db = session.connection()
    paused = paused_scope(session)
    ids = list(
        db.scalars(
            _due_query(per_channel, paused),
            {"now": now, "limit": limit, "held_before": now - max_lateness},
        )
    )
    if not ids:
        return []
    rows = list(db.execute(_details_query(postgres), {"ids": ids}))
    verdicts = [(row, _refusal(row, now, max_lateness)) for row in rows]
    refused = [(row, failure) for row, failure in verdicts if failure is not None]
    refuse_at_claim(session, refused, now=now, worker=owner, reconnect_grace=reconnect_grace)
    taken = [row for row, failure in verdicts if failure is None]
    if not taken:
        return []
    transitions.update_ids(
        session,
        transitions.claim(owner=owner, lease_until=now + lease, now=now),
        [row.id for row in taken],
    )
    jobs = _jobs(session, taken, media_dir=media_dir, base_url=base_url)
    # insights: links of click-tracking posts go out as counting redirects
    return track_links(session, jobs, base_url=base_url, now=now)


def _jobs(session: Session, rows: list[Row[Any]], *, media_dir: Path, base_url: str) -> list[Job]:
    """What the connectors need of each claimed delivery, read in two more queries."""
    post_ids = list({row.post_id for row in rows})
    objectives = _objectives_of(session, post_ids)
    with_media = list({row.post_id for row in rows if row.has_media})
    media = _media_of(session, with_media) if with_media else {}
    jobs = [
        Job(
            delivery_id=row.id,
            channel_id=row.channel_id,
            platform=row.platform,
            channel_config=dict(row.config),
            credentials_encrypted=row.credentials_encrypted,
            request=publish_request(
                delivery_id=row.id,
                post_id=row.post_id,
                text=row.text,
                title=row.title,
                link=row.link,
                media=media.get(row.post_id, ()),
                objectives=objectives.get(row.post_id, ()),
                scheduled_at=row.scheduled_at,
                internal_only=row.internal_only,
                media_dir=media_dir,
                base_url=base_url,
            ),
            due_at=row.next_attempt_at,
            attempts=row.attempts,
            channel_name=row.channel_name,
        )
        for row in rows
    ]
    # exchange: each channel's own version and tracked links (app/exchange/publishing.py).
    return channel_copies(session, jobs)


_OBJECTIVES_OF = (
    select(post_objectives.c.post_id, Objective.id, Objective.name)
    .join(Objective, Objective.id == post_objectives.c.objective_id)
    .where(post_objectives.c.post_id.in_(bindparam("ids", expanding=True)))
    .order_by(Objective.name)
)
_MEDIA_OF = (
    select(PostMedia.post_id, Media)
    .join(Media, Media.id == PostMedia.media_id)
    .where(PostMedia.post_id.in_(bindparam("ids", expanding=True)))
    .order_by(PostMedia.position)
)


def _objectives_of(session: Session, post_ids: list[str]) -> dict[str, list[Row[Any]]]:
    found: dict[str, list[Row[Any]]] = defaultdict(list)
    for link in session.connection().execute(_OBJECTIVES_OF, {"ids": post_ids}):
        found[link.post_id].append(link)
    return found


def _media_of(session: Session, post_ids: list[str]) -> dict[str, list[Media]]:
    found: dict[str, list[Media]] = defaultdict(list)
    for post_id, item in session.execute(_MEDIA_OF, {"ids": post_ids}):
        found[post_id].append(item)
    return found


def _refusal(row: Row[Any], now: datetime, max_lateness: timedelta) -> Failure | None:
    """Why this due delivery must not be published now, if it must not."""
    late = now - row.next_attempt_at
    if late > max_lateness:
        hours = late.total_seconds() / 3600
        return Failure(
            OutcomeKind.missed_window,
            f"missed its window: due {row.next_attempt_at:%Y-%m-%d %H:%M} UTC, found "
            f"{hours:.1f} h late (limit {max_lateness.total_seconds() / 3600:g} h); "
            "retry to publish it now",
        )
    if row.channel_status == ChannelStatus.needs_reconnect:
        return Failure(
            OutcomeKind.auth_expired, row.status_reason or "the channel needs reconnecting"
        )
    if row.channel_status == ChannelStatus.disabled:
        return Failure(OutcomeKind.channel_disabled, f"channel {row.channel_name!r} is disabled")
    if row.internal_only and row.audience != "internal":
        return Failure(
            OutcomeKind.internal_only,
            f"the post is internal only and channel {row.channel_name!r} is external",
        )
    return None


def renew_leases(session: Session, *, owner: str, now: datetime, lease: timedelta) -> int:
    """Extend this worker's leases on deliveries it is still publishing."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.lease_owner == owner, Delivery.status == DeliveryStatus.publishing)
        .values(lease_expires_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def next_due_at(session: Session) -> datetime | None:
    return session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(Delivery.status.in_(PENDING))
    )
