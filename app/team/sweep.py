"""The approval sweep, run by each scheduler every APPROVAL_SWEEP_SECONDS:

- approvers are told: posts that became pending in one whole minute open one
  `approval_requested` alert (announced to the alert channels like every alert);
  it resolves once none of that minute's posts waits any more;
- a post still pending CADENCE_APPROVAL_WARN_MINUTES before its time opens an
  `approval_overdue` alert, resolved when it stops waiting;
- a post whose time passed while pending ends `missed_window` (transitions.miss_approval)
  and its objective-day is not covered by it (coverage counts scheduled posts only).

Any number of processes may run it: alerts open once per key (their unique index),
and the missed-window transition's guard lets only the first process change a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertKind
from app.alerts.service import open_alert, resolve_alert
from app.posts.models import Delivery, DeliveryStatus, Post, PostState
from app.publishing import transitions
from app.team.audit import Action
from app.team.models import AuditEntry

APPROVAL_SWEEP_SECONDS = 20.0
# Minutes looked back for submissions not announced yet (a sweep missed by a restart).
LOOKBACK_MINUTES = 10
MISSED = "its time passed while it waited for approval"
MINUTE_FORMAT = "%Y-%m-%dT%H:%MZ"


@dataclass
class SweepResult:
    missed: int = 0
    overdue: int = 0
    requested: int = 0


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _pending_posts(session: Session, *, before: datetime) -> list[Post]:
    return list(
        session.scalars(
            select(Post)
            .where(Post.state == PostState.pending_approval, Post.scheduled_at <= before)
            .order_by(Post.scheduled_at, Post.id)
            .limit(500)
        )
    )


def _expire(session: Session, *, now: datetime) -> int:
    change = transitions.miss_approval(message=MISSED, now=now)
    ids = list(
        session.scalars(
            select(Delivery.id)
            .join(Post, Post.id == Delivery.post_id)
            .where(
                Post.state == PostState.pending_approval,
                Post.scheduled_at < now,
                Delivery.status == DeliveryStatus.draft,
            )
            .limit(1000)
        )
    )
    return transitions.update_ids(session, change, ids)


def _overdue(session: Session, *, now: datetime, warn: timedelta) -> int:
    opened = 0
    for post in _pending_posts(session, before=now + warn):
        if post.scheduled_at is None or post.scheduled_at < now:
            continue
        minutes = int((post.scheduled_at - now).total_seconds() // 60)
        message = f"A post due in {minutes} minutes still waits for approval: {post.text[:80]}"
        if open_alert(
            session,
            kind=AlertKind.approval_overdue,
            key=post.id,
            message=message,
            now=now,
            post_id=post.id,
        ):
            opened += 1
    return opened


def _submissions(session: Session, start: datetime, end: datetime) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.subject_id).where(
                AuditEntry.action == Action.submit.value,
                AuditEntry.at >= start,
                AuditEntry.at < end,
            )
        )
    )


def _still_pending(session: Session, post_ids: list[str]) -> bool:
    found = session.scalar(
        select(Post.id)
        .where(Post.id.in_(post_ids), Post.state == PostState.pending_approval)
        .limit(1)
    )
    return found is not None


def _requested(session: Session, *, now: datetime) -> int:
    """One alert per whole minute in which posts became pending."""
    opened = 0
    end = _minute(now)
    for back in range(LOOKBACK_MINUTES, 0, -1):
        start = end - timedelta(minutes=back)
        key = start.strftime(MINUTE_FORMAT)
        seen = session.scalar(
            select(Alert.id).where(Alert.dedupe_key == f"{AlertKind.approval_requested}:{key}")
        )
        if seen is not None:
            continue
        posts = _submissions(session, start, start + timedelta(minutes=1))
        if not posts or not _still_pending(session, posts):
            continue
        count = len(set(posts))
        message = f"{count} post{'s' if count != 1 else ''} submitted at {key} await approval"
        if open_alert(
            session, kind=AlertKind.approval_requested, key=key, message=message, now=now
        ):
            opened += 1
    return opened


def _resolve_settled(session: Session, *, now: datetime) -> None:
    """Resolve the alerts about posts that no longer wait."""
    unresolved = session.execute(
        select(Alert.kind, Alert.dedupe_key, Alert.post_id).where(
            Alert.kind.in_([AlertKind.approval_overdue.value, AlertKind.approval_requested.value]),
            Alert.resolved_at.is_(None),
        )
    ).all()
    for kind, dedupe_key, post_id in unresolved:
        key = dedupe_key.split(":", 1)[1]
        if kind == AlertKind.approval_overdue:
            waiting = post_id is not None and _still_pending(session, [post_id])
        else:
            start = datetime.strptime(key, MINUTE_FORMAT).replace(tzinfo=now.tzinfo)
            posts = _submissions(session, start, start + timedelta(minutes=1))
            waiting = bool(posts) and _still_pending(session, posts)
        if not waiting:
            resolve_alert(session, kind=AlertKind(kind), key=key, now=now)


def sweep(session: Session, *, now: datetime, warn_minutes: int) -> SweepResult:
    result = SweepResult()
    result.missed = _expire(session, now=now)
    result.overdue = _overdue(session, now=now, warn=timedelta(minutes=warn_minutes))
    result.requested = _requested(session, now=now)
    _resolve_settled(session, now=now)
    return result
