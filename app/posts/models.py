from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    literal_column,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.db import Base, IdColumn, UTCDateTime, new_id

if TYPE_CHECKING:
    from app.media.models import Media
    from app.objectives.models import Objective


class PostState(StrEnum):
    """What the author asked for; the visible status is derived (see posts.status)."""

    draft = "draft"
    # Scheduled, waiting for an editor's approval; its deliveries stay drafts meanwhile.
    pending_approval = "pending_approval"
    scheduled = "scheduled"
    cancelled = "cancelled"


class DeliveryStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    publishing = "publishing"
    retrying = "retrying"
    published = "published"
    failed = "failed"
    unknown = "unknown"
    cancelled = "cancelled"
    # Due while its channel needs reconnecting: goes out once it is reconnected, or
    # fails after CADENCE_RECONNECT_GRACE_HOURS (next_attempt_at holds that deadline).
    waiting = "waiting"


PENDING = (DeliveryStatus.scheduled, DeliveryStatus.retrying)
# Written out, not bound, so that the databases can match them to the partial indexes
# below (a planner cannot prove that a condition on parameters implies an index's).
PENDING_CONDITION = "status IN ('scheduled', 'retrying')"
IN_FLIGHT_CONDITION = "status = 'publishing'"


def is_in_flight(delivery: Any) -> ColumnElement[bool]:
    """`delivery` is Delivery or an alias of it."""
    return delivery.status == literal_column(f"'{DeliveryStatus.publishing.value}'")


def is_pending(delivery: Any) -> ColumnElement[bool]:
    """`delivery` is Delivery or an alias of it."""
    return delivery.status.in_([literal_column(f"'{s.value}'") for s in PENDING])


post_objectives = Table(
    "post_objectives",
    Base.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("objective_id", ForeignKey("objectives.id", ondelete="RESTRICT"), primary_key=True),
    Index("ix_post_objectives_objective_id", "objective_id"),
)


class PostMedia(Base):
    __tablename__ = "post_media"

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    media_id: Mapped[str] = mapped_column(
        ForeignKey("media.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)

    media: Mapped[Media] = relationship()


class PostKind(StrEnum):
    post = "post"
    alert = "alert"


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # Each alert is announced once when it opens and once when it resolves.
        UniqueConstraint("alert_id", "alert_event", name="uq_posts_alert_event"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    text: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(2048))
    internal_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # exchange: False turns tracked links (app/exchange/utm.py) off for this post.
    utm: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # exchange: channel id -> its own text/title/link (app/exchange/versions.py).
    versions: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    # exchange: replies after the post on X, a comment under it on Facebook.
    thread: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    first_comment: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    # "post": written by a person; "alert": a notification Cadence sends to alert
    # channels, published by the same engine so it gets the same exactly-once care.
    kind: Mapped[str] = mapped_column(String(16), default=PostKind.post, server_default="post")
    # use_alter: alerts refer to posts too; the cycle is broken when creating tables.
    alert_id: Mapped[str | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE", use_alter=True)
    )
    alert_event: Mapped[str | None] = mapped_column(String(16))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # planning: an occurrence of a recurring post (app/planning); detached once edited
    # on its own, so later edits of the series leave it as it is.
    series_id: Mapped[str | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )
    series_detached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # planning: a post of its objective's evergreen library (never on the calendar),
    # and a copy of one made to fill an uncovered day.
    evergreen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # planning: a library post that waits for approval, or was rejected: auto-fill never
    # copies it (an approved one's copies need no approval of their own).
    library_held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    filled_from: Mapped[str | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    auto_filled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="Delivery.created_at"
    )
    media_links: Mapped[list[PostMedia]] = relationship(
        cascade="all, delete-orphan", order_by="PostMedia.position"
    )
    objectives: Mapped[list[Objective]] = relationship(
        secondary=post_objectives, order_by="Objective.name"
    )


class Delivery(Base):
    """One post on one channel: what the scheduler claims, publishes and retries."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("post_id", "channel_id", name="uq_deliveries_post_channel"),
        # The dispatcher's "due" query: status in (scheduled, retrying) and due by now.
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        # The recovery sweep: publishing with an expired lease.
        Index("ix_deliveries_lease", "status", "lease_expires_at"),
        # The claim: each channel's queue of pending deliveries, in due order.
        Index(
            "ix_deliveries_queue",
            "channel_id",
            "next_attempt_at",
            "id",
            sqlite_where=text(PENDING_CONDITION),
            postgresql_where=text(PENDING_CONDITION),
        ),
        # The claim's "how busy is each channel": only the few rows in flight.
        Index(
            "ix_deliveries_in_flight",
            "channel_id",
            sqlite_where=text(IN_FLIGHT_CONDITION),
            postgresql_where=text(IN_FLIGHT_CONDITION),
        ),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("channels.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_id: Mapped[str | None] = mapped_column(String(255))
    permalink: Mapped[str | None] = mapped_column(String(2048))
    last_error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    post: Mapped[Post] = relationship(back_populates="deliveries")


class DeliveryAttempt(Base):
    """History: one row per call (or decision) about a delivery."""

    __tablename__ = "delivery_attempts"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
