"""Writing what happened to a delivery: its new state, the attempt, and any alert.

Every write is conditional on the lease: a worker whose lease was taken over (the
recovery sweep marked the delivery unknown) cannot overwrite what a person now
sees, except to report that the post did go out, which is news worth keeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.alerts.models import AlertKind
from app.alerts.service import open_alert, resolve_alerts
from app.channels.models import Channel, ChannelStatus
from app.db import new_id
from app.posts.models import Delivery, DeliveryAttempt, DeliveryStatus, Post, PostKind
from connectors.registry import get_platform

log = logging.getLogger(__name__)

PUBLISHED = "published"


@dataclass(frozen=True)
class Failure:
    """A delivery refused before any call (late, channel unusable, internal only)."""

    kind: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """The result of one publish call, as the dispatcher saw it."""

    delivery_id: str
    kind: str  # "published" or a connectors.base.PublishError kind
    started_at: datetime
    finished_at: datetime
    message: str | None = None
    external_id: str | None = None
    permalink: str | None = None
    retry_at: datetime | None = None


def _snippet(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _describe(session: Session, delivery: Delivery) -> tuple[str, Channel, bool]:
    """What to call the delivery in an alert, its channel, and whether it may raise alerts.

    An alert announcement that fails raises no alert of its own: that would announce
    the failure to the same broken channel, and so on. It is logged instead.
    """
    post = session.get(Post, delivery.post_id)
    channel = session.get(Channel, delivery.channel_id)
    assert post is not None and channel is not None
    alerting = post.kind != PostKind.alert
    if not alerting:
        # The publish outcome was logged already; this says why no alert follows.
        log.debug("alert announcement not delivered", extra={"delivery_id": delivery.id})
    return f"post {_snippet(post.title or post.text)!r} on {channel.name}", channel, alerting


def _attempt(
    session: Session,
    delivery: Delivery,
    *,
    outcome: str,
    error: str | None,
    worker: str,
    started_at: datetime,
    finished_at: datetime,
) -> None:
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            worker=worker,
            started_at=started_at,
            finished_at=finished_at,
            outcome=outcome,
            error=error,
        )
    )


def _settle(
    session: Session,
    delivery: Delivery,
    *,
    status: DeliveryStatus,
    kind: str,
    message: str,
    alert: tuple[AlertKind, str],
    now: datetime,
) -> None:
    """End the delivery in `status` (failed or unknown) and open its alert."""
    delivery.status = status
    delivery.error_kind = kind
    delivery.last_error = message
    delivery.next_attempt_at = None
    delivery.lease_owner = None
    delivery.lease_expires_at = None
    delivery.updated_at = now
    what, channel, alerting = _describe(session, delivery)
    if not alerting:
        return
    alert_kind, template = alert
    open_alert(
        session,
        kind=alert_kind,
        key=delivery.id,
        message=template.format(what=what, message=message),
        now=now,
        post_id=delivery.post_id,
        delivery_id=delivery.id,
        channel_id=channel.id,
    )


def _fail(session: Session, delivery: Delivery, *, kind: str, message: str, now: datetime) -> None:
    _settle(
        session,
        delivery,
        status=DeliveryStatus.failed,
        kind=kind,
        message=message,
        alert=(AlertKind.delivery_failed, "Could not publish {what}: {message}"),
        now=now,
    )


def _needs_reconnect(session: Session, channel_id: str, *, reason: str, now: datetime) -> None:
    channel = session.get(Channel, channel_id)
    assert channel is not None
    if channel.status == ChannelStatus.active:
        channel.status = ChannelStatus.needs_reconnect
        channel.status_reason = reason
        channel.updated_at = now
    open_alert(
        session,
        kind=AlertKind.channel_needs_reconnect,
        key=channel.id,
        message=f"Channel {channel.name} needs reconnecting: {reason}",
        now=now,
        channel_id=channel.id,
    )


def fail_at_claim(
    session: Session, *, delivery: Delivery, failure: Failure, now: datetime, worker: str
) -> None:
    _attempt(
        session,
        delivery,
        outcome=failure.kind,
        error=failure.message,
        worker=worker,
        started_at=now,
        finished_at=now,
    )
    _fail(session, delivery, kind=failure.kind, message=failure.message, now=now)
    if log.isEnabledFor(logging.WARNING):
        post, channel = (
            session.get(Post, delivery.post_id),
            session.get(Channel, delivery.channel_id),
        )
        assert post is not None and channel is not None
        log.warning(
            "could not publish post %r to %s %s: %s (delivery %s)",
            _snippet(post.title or post.text, 50),
            get_platform(channel.platform).label,
            channel.name,
            failure.message,
            delivery.id,
            extra={"delivery_id": delivery.id, "post_id": post.id, "outcome": failure.kind},
        )


def mark_unknown(session: Session, delivery: Delivery, *, message: str, now: datetime) -> None:
    _settle(
        session,
        delivery,
        status=DeliveryStatus.unknown,
        kind="ambiguous",
        message=message,
        alert=(
            AlertKind.delivery_unknown,
            "Cannot tell whether {what} went out: {message}. "
            "Check the platform, then retry or leave it.",
        ),
        now=now,
    )


def record_outcomes(
    session: Session,
    outcomes: Iterable[Outcome],
    *,
    worker: str,
    now: datetime,
    max_attempts: int,
    backoff: Callable[[int], timedelta],
) -> set[str]:
    """Write the outcomes; return the ids of posts that had a delivery fail."""
    outcomes = list(outcomes)
    if not outcomes:
        return set()
    query = select(Delivery.id, Delivery.status, Delivery.lease_owner, Delivery.attempts).where(
        Delivery.id.in_([o.delivery_id for o in outcomes])
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    current = {row.id: row for row in session.execute(query)}
    # Successes under a lease we still hold are most of the traffic: written in bulk.
    fast = [
        (o, current[o.delivery_id])
        for o in outcomes
        if o.kind == PUBLISHED
        and o.delivery_id in current
        and current[o.delivery_id].status == DeliveryStatus.publishing
        and current[o.delivery_id].lease_owner == worker
    ]
    if fast:
        _record_published(session, fast, worker=worker, now=now)
    slow_ids = {o.delivery_id for o in outcomes if o.delivery_id in current} - {
        o.delivery_id for o, _ in fast
    }
    failed_posts: set[str] = set()
    if not slow_ids:
        return failed_posts
    deliveries = {
        d.id: d for d in session.scalars(select(Delivery).where(Delivery.id.in_(slow_ids)))
    }
    for outcome in outcomes:
        delivery = deliveries.get(outcome.delivery_id)
        if delivery is None:
            continue  # recorded above, or the post was deleted meanwhile
        _record_one(
            session,
            delivery,
            outcome,
            worker=worker,
            now=now,
            max_attempts=max_attempts,
            backoff=backoff,
        )
        if delivery.status == DeliveryStatus.published:
            resolve_alerts(session, keys=[(k, delivery.id) for k in FAILURE_ALERTS], now=now)
        elif delivery.status == DeliveryStatus.failed:
            failed_posts.add(delivery.post_id)
    return failed_posts


FAILURE_ALERTS = (AlertKind.delivery_failed, AlertKind.delivery_unknown)


def _record_published(
    session: Session, items: list[tuple[Outcome, Any]], *, worker: str, now: datetime
) -> None:
    session.execute(
        update(Delivery),
        [
            {
                "id": o.delivery_id,
                "status": DeliveryStatus.published,
                "attempts": row.attempts + 1,
                "published_at": o.finished_at,
                "external_id": o.external_id,
                "permalink": o.permalink,
                "last_error": None,
                "error_kind": None,
                "next_attempt_at": None,
                "lease_owner": None,
                "lease_expires_at": None,
                "updated_at": now,
            }
            for o, row in items
        ],
    )
    session.execute(
        insert(DeliveryAttempt),
        [
            {
                "id": new_id(),
                "delivery_id": o.delivery_id,
                "number": row.attempts + 1,
                "worker": worker,
                "started_at": o.started_at,
                "finished_at": o.finished_at,
                "outcome": PUBLISHED,
                "error": None,
            }
            for o, row in items
        ],
    )
    # A success ends whatever an earlier failure of the same delivery opened.
    resolve_alerts(
        session, keys=[(k, o.delivery_id) for o, _ in items for k in FAILURE_ALERTS], now=now
    )


def _record_one(
    session: Session,
    delivery: Delivery,
    outcome: Outcome,
    *,
    worker: str,
    now: datetime,
    max_attempts: int,
    backoff: Callable[[int], timedelta],
) -> None:
    ours = delivery.status == DeliveryStatus.publishing and delivery.lease_owner == worker
    if not ours:
        if outcome.kind == PUBLISHED and delivery.status == DeliveryStatus.unknown:
            log.warning(
                "late success for a delivery marked unknown", extra={"delivery_id": delivery.id}
            )
        else:
            log.warning(
                "outcome dropped: the lease was lost",
                extra={
                    "delivery_id": delivery.id,
                    "outcome": outcome.kind,
                    "status": delivery.status,
                },
            )
            return
    if outcome.kind != "rate_limited":
        delivery.attempts += 1
    _attempt(
        session,
        delivery,
        outcome=outcome.kind,
        error=outcome.message,
        worker=worker,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
    )
    delivery.lease_owner = None
    delivery.lease_expires_at = None
    delivery.updated_at = now
    message = outcome.message or outcome.kind

    if outcome.kind == PUBLISHED:
        delivery.status = DeliveryStatus.published
        delivery.published_at = outcome.finished_at
        delivery.external_id = outcome.external_id
        delivery.permalink = outcome.permalink
        delivery.last_error = None
        delivery.error_kind = None
        delivery.next_attempt_at = None
    elif outcome.kind == "rate_limited":
        delivery.status = DeliveryStatus.retrying
        delivery.next_attempt_at = max(outcome.retry_at or now + backoff(1), now)
        delivery.last_error = message
        delivery.error_kind = outcome.kind
    elif outcome.kind == "transient":
        if delivery.attempts >= max_attempts:
            _fail(
                session,
                delivery,
                kind=outcome.kind,
                message=f"gave up after {delivery.attempts} attempts: {message}",
                now=now,
            )
        else:
            delivery.status = DeliveryStatus.retrying
            delivery.next_attempt_at = now + backoff(delivery.attempts)
            delivery.last_error = message
            delivery.error_kind = outcome.kind
    elif outcome.kind == "auth_expired":
        _fail(session, delivery, kind=outcome.kind, message=message, now=now)
        _needs_reconnect(session, delivery.channel_id, reason=message, now=now)
    elif outcome.kind == "ambiguous":
        mark_unknown(session, delivery, message=message, now=now)
    else:  # permanent, or an error no kind describes
        _fail(session, delivery, kind=outcome.kind, message=message, now=now)
