"""Deliveries waiting for their channel to be reconnected: they go out once it is
(resume), or fail when CADENCE_RECONNECT_GRACE_HOURS ends first (give up)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.posts.models import Delivery, DeliveryStatus
from app.publishing import outcomes, transitions


def resume_waiting(session: Session, *, channel_id: str, now: datetime) -> int:
    """The channel is usable again: its waiting deliveries are due now."""
    ids = list(
        session.scalars(
            select(Delivery.id).where(
                Delivery.channel_id == channel_id, Delivery.status == DeliveryStatus.waiting
            )
        )
    )
    return transitions.update_ids(session, transitions.resume(now=now), ids)


def give_up_waiting(session: Session, *, now: datetime) -> int:
    """Fail the deliveries whose grace ended, each with its failure alert."""
    late = list(
        session.scalars(
            select(Delivery)
            .where(Delivery.status == DeliveryStatus.waiting, Delivery.next_attempt_at <= now)
            .with_for_update(skip_locked=True)
            .limit(500)
        )
    )
    for delivery in late:
        why = delivery.last_error or "the platform refused the credentials"
        change = transitions.give_up_waiting(
            message=f"its channel was not reconnected in time ({why})", now=now
        )
        transitions.apply(delivery, change)
        outcomes._alert(session, delivery, change, now=now)
    return len(late)
