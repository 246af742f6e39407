"""The recovery sweep: a delivery whose lease expired mid-publish has an unknown outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.posts.models import Delivery, DeliveryStatus
from app.publishing.outcomes import recover_lease


def recover_expired_leases(session: Session, *, now: datetime, limit: int = 500) -> list[str]:
    """Mark deliveries left `publishing` past their lease as unknown, with an alert each.

    The worker that held them died or stalled during (or just before) the platform
    call, so nothing says whether the post went out: a person decides with retry.
    """
    query = (
        select(Delivery)
        .where(Delivery.status == DeliveryStatus.publishing, Delivery.lease_expires_at < now)
        .order_by(Delivery.lease_expires_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    recovered = []
    for delivery in session.scalars(query).all():
        recover_lease(session, delivery, now=now)
        recovered.append(delivery.id)
    return recovered
