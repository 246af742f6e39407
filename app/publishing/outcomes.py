"""Writing what happened to a delivery: its transition, the attempt, and any alert.

Which transition an outcome leads to is decided here (`decide`); what a transition
writes to the delivery row is defined in `transitions`, whose guards make every write
conditional on the lease: a worker whose lease was taken over (the recovery sweep
marked the delivery unknown) cannot overwrite what a person now sees, except to report
that the post did go out, which is news worth keeping.

Under load this runs for hundreds of outcomes per step, so rows are read and written
with a few Core statements, grouped by transition, not one ORM object per delivery.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertKind
from app.alerts.service import open_alert, resolve_alerts
from app.channels.models import Channel, ChannelStatus
from app.db import new_id
from app.posts.models import Delivery, DeliveryAttempt, DeliveryStatus, Post, PostKind
from app.publishing import transitions
from app.publishing.transitions import Change
from connectors.base import OutcomeKind

log = logging.getLogger(__name__)

FAILURE_ALERTS = (AlertKind.delivery_failed, AlertKind.delivery_unknown)


class MissingRow(RuntimeError):
    """A row the engine just read is gone (a bug, or a delete the engine does not expect)."""


@dataclass(frozen=True)
class Failure:
    """Why a delivery must not go out, decided before any call: nothing went out."""

    kind: OutcomeKind
    message: str


@dataclass(frozen=True)
class Outcome:
    """The result of one publish attempt, as the dispatcher saw it."""

    delivery_id: str
    kind: OutcomeKind
    started_at: datetime
    finished_at: datetime
    message: str | None = None
    external_id: str | None = None
    permalink: str | None = None
    retry_at: datetime | None = None


def decide(
    outcome: Outcome,
    *,
    attempts: int,
    worker: str,
    now: datetime,
    max_attempts: int,
    backoff: Callable[[int], timedelta],
    reconnect_grace: timedelta | None = None,
) -> Change:
    """The transition `outcome` leads to for a delivery that had made `attempts` attempts.

    Nothing went out = failed (or retrying, or waiting for a reconnect within
    `reconnect_grace`); maybe went out = unknown.
    """
    kind = OutcomeKind(outcome.kind)
    message = outcome.message or kind.value
    if kind == OutcomeKind.published:
        return transitions.succeed(
            owner=worker,
            attempts=attempts + 1,
            published_at=outcome.finished_at,
            external_id=outcome.external_id,
            permalink=outcome.permalink,
            now=now,
        )
    if kind == OutcomeKind.rate_limited:
        # The platform's own wait, which does not use up an attempt.
        return transitions.retry_later(
            owner=worker,
            attempts=attempts,
            at=max(outcome.retry_at or now + backoff(1), now),
            kind=kind,
            message=message,
            now=now,
        )
    attempts += 1
    if kind == OutcomeKind.transient and attempts < max_attempts:
        return transitions.retry_later(
            owner=worker,
            attempts=attempts,
            at=now + backoff(attempts),
            kind=kind,
            message=message,
            now=now,
        )
    if kind == OutcomeKind.transient:
        message = f"gave up after {attempts} attempts: {message}"
    if kind == OutcomeKind.ambiguous:
        return transitions.mark_unknown(owner=worker, attempts=attempts, message=message, now=now)
    if kind == OutcomeKind.auth_expired and reconnect_grace:
        return transitions.wait_for_reconnect(
            owner=worker, attempts=attempts, until=now + reconnect_grace, message=message, now=now
        )
    # permanent, auth_expired, a failure before the call, or an error no kind describes
    return transitions.fail(owner=worker, attempts=attempts, kind=kind, message=message, now=now)


def record_outcomes(
    session: Session,
    outcomes: Iterable[Outcome],
    *,
    worker: str,
    now: datetime,
    max_attempts: int,
    backoff: Callable[[int], timedelta],
    reconnect_grace: timedelta | None = None,
) -> set[str]:
    """Write the outcomes; return the ids of posts that had a delivery fail."""
    outcomes = list(outcomes)
    if not outcomes:
        return set()
    current = _current(session, [o.delivery_id for o in outcomes])
    decided: list[tuple[Outcome, Row[Any], Change]] = []
    for outcome in outcomes:
        row = current.get(outcome.delivery_id)
        if row is None:
            continue  # the post was deleted meanwhile
        change = decide(
            outcome,
            attempts=row.attempts,
            worker=worker,
            now=now,
            max_attempts=max_attempts,
            backoff=backoff,
            reconnect_grace=reconnect_grace,
        )
        if not change.allows(row.status, row.lease_owner):
            log.warning(
                "outcome dropped: the lease was lost",
                extra={"delivery_id": row.id, "outcome": outcome.kind, "status": row.status},
            )
            continue
        if row.status == DeliveryStatus.unknown:
            log.warning("late success for a delivery marked unknown", extra={"delivery_id": row.id})
        decided.append((outcome, row, change))
    if not decided:
        return set()

    by_transition: dict[str, list[tuple[str, Change]]] = defaultdict(list)
    for outcome, _, change in decided:
        by_transition[change.name].append((outcome.delivery_id, change))
    for changes in by_transition.values():
        transitions.update_many(session, changes)
    _add_attempts(
        session,
        [
            {
                "delivery_id": outcome.delivery_id,
                "number": change.values["attempts"],
                "worker": worker,
                "started_at": outcome.started_at,
                "finished_at": outcome.finished_at,
                "outcome": outcome.kind,
                "error": outcome.message,
            }
            for outcome, _, change in decided
        ],
    )
    # A success ends whatever an earlier failure of the same delivery opened.
    published = [o.delivery_id for o, _, c in decided if c.target == DeliveryStatus.published]
    _resolve_failure_alerts(session, published, now=now)

    failed_posts: set[str] = set()
    for outcome, row, change in decided:
        if change.target in (DeliveryStatus.failed, DeliveryStatus.unknown):
            _alert(session, row, change, now=now)
        if change.target == DeliveryStatus.failed:
            failed_posts.add(row.post_id)
        if outcome.kind == OutcomeKind.auth_expired:
            # One alert per channel, however many of its deliveries wait.
            _needs_reconnect(session, row.channel_id, reason=change.values["last_error"], now=now)
    return failed_posts


def _refusal_change(
    failure: Failure, attempts: int, now: datetime, grace: timedelta | None
) -> Change:
    if failure.kind == OutcomeKind.auth_expired and grace:
        return transitions.hold_for_reconnect(until=now + grace, message=failure.message, now=now)
    return transitions.refuse(
        attempts=attempts, kind=failure.kind, message=failure.message, now=now
    )


def refuse_at_claim(
    session: Session,
    refused: list[tuple[Row[Any], Failure]],
    *,
    now: datetime,
    worker: str,
    reconnect_grace: timedelta | None = None,
) -> None:
    """Fail due deliveries that must not go out (or, on a channel that needs
    reconnecting, let them wait); `refused` rows carry id, post_id, channel_id,
    attempts and status."""
    if not refused:
        return
    decided = [
        (row, _refusal_change(failure, row.attempts, now, reconnect_grace))
        for row, failure in refused
    ]
    by_transition: dict[str, list[tuple[str, Change]]] = defaultdict(list)
    for row, change in decided:
        by_transition[change.name].append((row.id, change))
    for changes in by_transition.values():
        transitions.update_many(session, changes)
    _add_attempts(
        session,
        [
            {
                "delivery_id": row.id,
                "number": row.attempts,
                "worker": worker,
                "started_at": now,
                "finished_at": now,
                "outcome": failure.kind,
                "error": failure.message,
            }
            for row, failure in refused
        ],
    )
    for row, change in decided:
        if change.target == DeliveryStatus.failed:
            _alert(session, row, change, now=now)


def recover_lease(session: Session, delivery: Delivery, *, now: datetime) -> None:
    """A delivery left `publishing` past its lease: its outcome is unknown."""
    owner = delivery.lease_owner
    change = transitions.recover_lease(
        attempts=delivery.attempts + 1,
        message=f"worker {owner} stopped answering while publishing (lease expired)",
        now=now,
    )
    _add_attempts(
        session,
        [
            {
                "delivery_id": delivery.id,
                "number": change.values["attempts"],
                "worker": owner,
                "started_at": delivery.updated_at,
                "finished_at": now,
                "outcome": OutcomeKind.lease_expired,
                "error": f"worker {owner} lost its lease",
            }
        ],
    )
    transitions.apply(delivery, change)
    _alert(session, delivery, change, now=now)


# -- helpers ------------------------------------------------------------------------


_CURRENT = select(
    Delivery.id,
    Delivery.status,
    Delivery.lease_owner,
    Delivery.attempts,
    Delivery.post_id,
    Delivery.channel_id,
).where(Delivery.id.in_(bindparam("ids", expanding=True)))
_ADD_ATTEMPT = insert(DeliveryAttempt.__table__)  # type: ignore[arg-type]


def _current(session: Session, ids: list[str]) -> dict[str, Row[Any]]:
    query = _CURRENT
    if session.get_bind().dialect.name == "postgresql":
        query = _CURRENT.with_for_update()
    rows: Iterable[Row[Any]] = session.connection().execute(query, {"ids": ids})
    return {row.id: row for row in rows}


_OPEN_ALERT_KEYS = select(Alert.kind, Alert.dedupe_key).where(
    Alert.dedupe_key.in_(bindparam("keys", expanding=True)), Alert.resolved_at.is_(None)
)


def _resolve_failure_alerts(session: Session, delivery_ids: list[str], *, now: datetime) -> None:
    """Resolve what earlier failures of these deliveries opened, if anything.

    Almost every success has no such alert: one indexed read finds the few that do,
    instead of an UPDATE over every success.
    """
    if not delivery_ids:
        return
    keys = [f"{kind}:{i}" for i in delivery_ids for kind in FAILURE_ALERTS]
    found = [
        (AlertKind(kind), key.split(":", 1)[1])
        for kind, key in session.connection().execute(_OPEN_ALERT_KEYS, {"keys": keys})
    ]
    if found:
        resolve_alerts(session, keys=found, now=now)


def _add_attempts(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(_ADD_ATTEMPT, [{"id": new_id(), **row} for row in rows])


def _snippet(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


ALERT_TEMPLATES = {
    DeliveryStatus.failed: (AlertKind.delivery_failed, "Could not publish {what}: {message}"),
    DeliveryStatus.unknown: (
        AlertKind.delivery_unknown,
        "Cannot tell whether {what} went out: {message}. "
        "Check the platform, then retry or leave it.",
    ),
}


def _alert(session: Session, delivery: Any, change: Change, *, now: datetime) -> None:
    """Open the alert a failed or unknown delivery raises.

    An alert announcement that fails raises no alert of its own: that would announce
    the failure to the same broken channel, and so on. It is logged instead.
    """
    post = session.get(Post, delivery.post_id)
    channel = session.get(Channel, delivery.channel_id)
    if post is None or channel is None:
        raise MissingRow(f"delivery {delivery.id}: its post or channel is gone")
    if post.kind == PostKind.alert:
        log.warning("alert announcement not delivered", extra={"delivery_id": delivery.id})
        return
    alert_kind, template = ALERT_TEMPLATES[change.target]
    what = f"post {_snippet(post.title or post.text)!r} on {channel.name}"
    open_alert(
        session,
        kind=alert_kind,
        key=delivery.id,
        message=template.format(what=what, message=change.values["last_error"]),
        now=now,
        post_id=delivery.post_id,
        delivery_id=delivery.id,
        channel_id=channel.id,
    )


def _needs_reconnect(session: Session, channel_id: str, *, reason: str, now: datetime) -> None:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise MissingRow(f"channel {channel_id} is gone")
    if channel.status == ChannelStatus.active:
        channel.status = ChannelStatus.needs_reconnect
        channel.status_reason = reason
        channel.updated_at = now
    open_alert(
        session,
        kind=AlertKind.channel_needs_reconnect,
        key=channel.id,
        message=(
            f"Channel {channel.name} needs reconnecting: {reason}. "
            f"Reconnect it at /channels/{channel.id}/reconnect"
        ),
        now=now,
        channel_id=channel.id,
    )
