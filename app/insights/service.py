"""Reading engagement back out: a delivery's series and each delivery's latest figures."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.insights.collect import clicks_of
from app.insights.models import DeliveryMetric, MetricSchedule, TrackedLink
from app.insights.schemas import MetricReadingOut, MetricsOut
from app.posts.models import Delivery
from app.posts.schemas import PostOut


def series(
    session: Session, delivery_id: str, *, limit: int, offset: int
) -> tuple[list[MetricReadingOut], int]:
    """A delivery's readings, oldest first."""
    if session.get(Delivery, delivery_id) is None:
        raise NotFound("delivery", delivery_id)
    where = DeliveryMetric.delivery_id == delivery_id
    total = session.scalar(select(func.count()).select_from(DeliveryMetric).where(where)) or 0
    rows = session.scalars(
        select(DeliveryMetric)
        .where(where)
        .order_by(DeliveryMetric.fetched_at, DeliveryMetric.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [MetricReadingOut.model_validate(row) for row in rows], total


def latest(session: Session, delivery_ids: Sequence[str]) -> dict[str, MetricsOut]:
    """Each delivery's latest reading, with the clicks counted until now; deliveries
    with neither a reading nor a tracked link are left out."""
    if not delivery_ids:
        return {}
    ids = list(delivery_ids)
    newest = (
        select(DeliveryMetric.delivery_id, func.max(DeliveryMetric.fetched_at).label("at"))
        .where(DeliveryMetric.delivery_id.in_(ids))
        .group_by(DeliveryMetric.delivery_id)
        .subquery()
    )
    readings = {
        row.delivery_id: row
        for row in session.scalars(
            select(DeliveryMetric).join(
                newest,
                (newest.c.delivery_id == DeliveryMetric.delivery_id)
                & (newest.c.at == DeliveryMetric.fetched_at),
            )
        )
    }
    gone = set(
        session.scalars(
            select(MetricSchedule.delivery_id).where(
                MetricSchedule.delivery_id.in_(ids), MetricSchedule.gone.is_(True)
            )
        )
    )
    tracked = set(
        session.scalars(select(TrackedLink.delivery_id).where(TrackedLink.delivery_id.in_(ids)))
    )
    clicks = clicks_of(session, ids)
    found: dict[str, MetricsOut] = {}
    for delivery_id in ids:
        reading = readings.get(delivery_id)
        if reading is None and delivery_id not in tracked and delivery_id not in gone:
            continue
        out = MetricsOut.model_validate(reading) if reading is not None else MetricsOut()
        if delivery_id in tracked:
            out.clicks = clicks.get(delivery_id, 0)
        out.gone = delivery_id in gone
        found[delivery_id] = out
    return found


def with_metrics(session: Session, post: PostOut) -> PostOut:
    """The post with each delivery's latest figures."""
    figures = latest(session, [d.id for d in post.deliveries])
    if not figures:
        return post
    deliveries = [d.model_copy(update={"metrics": figures.get(d.id)}) for d in post.deliveries]
    return post.model_copy(update={"deliveries": deliveries})
