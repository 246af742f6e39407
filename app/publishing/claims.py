"""Claiming due deliveries: the step that makes publishing exactly-once.

A claim is one short transaction that turns due deliveries into `publishing`
with this worker's lease and commits before any network call. Claimers are
serialised (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN
IMMEDIATE), so the "is this channel busy" check below is exact, and rows locked
by a concurrent edit are skipped rather than waited for (SKIP LOCKED).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, selectinload

from app.channels.models import Channel, ChannelStatus
from app.posts.models import PENDING, Delivery, DeliveryStatus, Post, PostMedia
from app.posts.requests import publish_request
from app.publishing.outcomes import Failure, fail_at_claim
from connectors.base import PublishRequest

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


def _due_ids(session: Session, *, now: datetime, limit: int, per_channel: int) -> list[str]:
    """Due deliveries, earliest first, at most `per_channel` in flight on any channel."""
    due = (
        select(
            Delivery.id,
            Delivery.channel_id,
            Delivery.next_attempt_at,
            func.row_number()
            .over(
                partition_by=Delivery.channel_id, order_by=(Delivery.next_attempt_at, Delivery.id)
            )
            .label("rank"),
        )
        .where(Delivery.status.in_(PENDING), Delivery.next_attempt_at <= now)
        .subquery()
    )
    busy = (
        select(Delivery.channel_id, func.count().label("n"))
        .where(Delivery.status == DeliveryStatus.publishing)
        .group_by(Delivery.channel_id)
        .subquery()
    )
    query = (
        select(due.c.id)
        .outerjoin(busy, busy.c.channel_id == due.c.channel_id)
        .where(due.c.rank + func.coalesce(busy.c.n, 0) <= per_channel)
        .order_by(due.c.next_attempt_at, due.c.id)
        .limit(limit)
    )
    return list(session.scalars(query))


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
) -> list[Job]:
    """Claim up to `limit` due deliveries for `owner`; fail the ones that may not go out."""
    if limit <= 0:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    ids = _due_ids(session, now=now, limit=limit, per_channel=per_channel)
    if not ids:
        return []
    locked = select(Delivery).where(Delivery.id.in_(ids), Delivery.status.in_(PENDING))
    if postgres:
        # Rows an edit or cancel holds are skipped now and picked up on a later tick.
        locked = locked.with_for_update(skip_locked=True, of=Delivery)
    deliveries = session.scalars(
        locked.options(
            selectinload(Delivery.post).selectinload(Post.objectives),
            selectinload(Delivery.post)
            .selectinload(Post.media_links)
            .selectinload(PostMedia.media),
        )
    ).all()
    channels = {
        c.id: c
        for c in session.scalars(
            select(Channel).where(Channel.id.in_({d.channel_id for d in deliveries}))
        )
    }
    jobs: list[Job] = []
    for delivery in sorted(deliveries, key=lambda d: (d.next_attempt_at, d.id)):
        channel = channels[delivery.channel_id]
        failure = _refusal(delivery, channel, now=now, max_lateness=max_lateness)
        if failure is not None:
            fail_at_claim(session, delivery=delivery, failure=failure, now=now, worker=owner)
            continue
        assert delivery.next_attempt_at is not None
        post = delivery.post
        jobs.append(
            Job(
                delivery_id=delivery.id,
                channel_id=channel.id,
                platform=channel.platform,
                channel_config=dict(channel.config),
                credentials_encrypted=channel.credentials_encrypted,
                request=publish_request(
                    delivery_id=delivery.id,
                    post_id=post.id,
                    text=post.text,
                    title=post.title,
                    link=post.link,
                    media=[link.media for link in post.media_links],
                    objectives=post.objectives,
                    scheduled_at=post.scheduled_at,
                    internal_only=post.internal_only,
                    media_dir=media_dir,
                    base_url=base_url,
                ),
                due_at=delivery.next_attempt_at,
                attempts=delivery.attempts,
            )
        )
    if jobs:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_([j.delivery_id for j in jobs]))
            .values(
                status=DeliveryStatus.publishing,
                lease_owner=owner,
                lease_expires_at=now + lease,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    return jobs


def _refusal(
    delivery: Delivery, channel: Channel, *, now: datetime, max_lateness: timedelta
) -> Failure | None:
    """Why this due delivery must not be published now, if it must not."""
    assert delivery.next_attempt_at is not None
    late = now - delivery.next_attempt_at
    if late > max_lateness:
        hours = late.total_seconds() / 3600
        return Failure(
            "missed_window",
            f"missed its window: due {delivery.next_attempt_at:%Y-%m-%d %H:%M} UTC, found "
            f"{hours:.1f} h late (limit {max_lateness.total_seconds() / 3600:g} h); "
            "retry to publish it now",
        )
    if channel.status == ChannelStatus.needs_reconnect:
        return Failure("auth_expired", channel.status_reason or "the channel needs reconnecting")
    if channel.status == ChannelStatus.disabled:
        return Failure("channel_disabled", f"channel {channel.name!r} is disabled")
    if delivery.post.internal_only and channel.audience != "internal":
        return Failure(
            "internal_only",
            f"the post is internal only and channel {channel.name!r} is external",
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
