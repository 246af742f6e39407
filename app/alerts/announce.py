"""Announcing alerts: each alert that opens, and its resolution, goes once to every
active channel that receives alerts.

An announcement is a post of kind "alert" with one delivery per alert channel, so
the publishing engine sends it with the same exactly-once claims, retries and
"unknown" handling as any post. The unique (alert_id, alert_event) constraint makes
announcing safe in any number of processes: the second insert does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alerts.models import Alert
from app.channels.models import Channel, ChannelStatus
from app.db import new_id
from app.posts.models import Post, PostKind, PostState
from app.publishing import transitions

BATCH = 200


def alert_link(alert: Alert, base_url: str) -> str:
    base = base_url.rstrip("/")
    if alert.day is not None:
        return f"{base}/calendar?day={alert.day.isoformat()}"
    if alert.post_id is not None:
        return f"{base}/posts/{alert.post_id}"
    if alert.channel_id is not None:
        return f"{base}/channels/{alert.channel_id}"
    return f"{base}/alerts"


def announce(session: Session, *, now: datetime, base_url: str) -> int:
    """Create the announcements not made yet; return how many were made."""
    channels = list(
        session.scalars(
            select(Channel).where(
                Channel.receives_alerts.is_(True), Channel.status == ChannelStatus.active
            )
        )
    )
    made = 0
    for event, pending in (
        ("opened", Alert.id.is_not(None)),
        ("resolved", Alert.resolved_at.is_not(None)),
    ):
        done = exists().where(Post.alert_id == Alert.id, Post.alert_event == event)
        alerts = session.scalars(
            select(Alert).where(pending, ~done).order_by(Alert.opened_at, Alert.id).limit(BATCH)
        ).all()
        for alert in alerts:
            if _announce_one(session, alert, event, channels, now=now, base_url=base_url):
                made += 1
    return made


def _announce_one(
    session: Session,
    alert: Alert,
    event: str,
    channels: list[Channel],
    *,
    now: datetime,
    base_url: str,
) -> bool:
    link = alert_link(alert, base_url)
    text = alert.message if event == "opened" else f"Resolved: {alert.message}"
    if event == "resolved" and alert.resolution_note:
        text += f" ({alert.resolution_note})"
    post_id = new_id()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.scalar(
        insert(Post)
        .values(
            id=post_id,
            text=f"{text}\n{link}",
            title=f"Cadence alert: {alert.kind.replace('_', ' ')}"
            + (" (resolved)" if event == "resolved" else ""),
            link=link,
            internal_only=True,
            state=PostState.scheduled,
            kind=PostKind.alert,
            alert_id=alert.id,
            alert_event=event,
            scheduled_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["alert_id", "alert_event"])
        .returning(Post.id)
    )
    if inserted is None:
        return False  # another process announced it first
    due_now = transitions.schedule(scheduled=True, at=now, now=now)
    for channel in channels:
        session.add(
            transitions.new_delivery(
                due_now, post_id=post_id, channel_id=channel.id, created_at=now
            )
        )
    session.flush()
    return True
