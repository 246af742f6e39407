"""Engagement: figures read back from the platforms, their collection schedule, and
the tracked links that count clicks per delivery."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdColumn, UTCDateTime, new_id


class DeliveryMetric(Base):
    """One reading of a delivery's public figures; None where the platform has none."""

    __tablename__ = "delivery_metrics"
    __table_args__ = (Index("ix_delivery_metrics_series", "delivery_id", "fetched_at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    likes: Mapped[int | None] = mapped_column(Integer)
    reposts: Mapped[int | None] = mapped_column(Integer)
    replies: Mapped[int | None] = mapped_column(Integer)
    views: Mapped[int | None] = mapped_column(Integer)
    clicks: Mapped[int | None] = mapped_column(Integer)


class MetricSchedule(Base):
    """When a published delivery's figures are next read, and who is reading them now.

    `step` counts the points of insights.collect.SCHEDULE already behind; `due_at` is
    None once the last is done or the post is gone. A collector claims due rows in a
    short transaction (claimed_by, claimed_until) before any platform call, so each
    reading happens once across processes; an expired claim is taken over.
    """

    __tablename__ = "metric_schedules"

    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    gone: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrackedLink(Base):
    """A URL a delivery carried, replaced by CADENCE_BASE_URL/l/{code}."""

    __tablename__ = "tracked_links"
    __table_args__ = (UniqueConstraint("delivery_id", "url", name="uq_tracked_links_delivery_url"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    bot_clicks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Digest(Base):
    """One weekly digest: the row is inserted once per week whatever the number of
    processes (the primary key), in the transaction that creates its post."""

    __tablename__ = "digests"

    week_start: Mapped[date] = mapped_column(Date, primary_key=True)  # the Monday reported
    post_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
