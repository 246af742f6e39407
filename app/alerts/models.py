from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdColumn, UTCDateTime, new_id


class AlertKind(StrEnum):
    objective_uncovered = "objective_uncovered"
    objective_missed = "objective_missed"
    delivery_failed = "delivery_failed"
    delivery_unknown = "delivery_unknown"
    channel_needs_reconnect = "channel_needs_reconnect"
    # planning: publishing is paused (app/planning/pause.py); resolved on resume.
    publishing_paused = "publishing_paused"
    # Team workflow (app/team/sweep.py)
    approval_requested = "approval_requested"
    approval_overdue = "approval_overdue"


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # One unresolved alert per subject, whatever the number of processes:
        # "objective_uncovered:<objective>:<day>", "delivery_failed:<delivery>", ...
        Index(
            "uq_alerts_unresolved_key",
            "dedupe_key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index("ix_alerts_status_opened", "status", "opened_at"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.open)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    objective_id: Mapped[str | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date | None] = mapped_column(Date)
    post_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    delivery_id: Mapped[str | None] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    channel_id: Mapped[str | None] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # planning: how it was resolved, when something did it (an auto-filled post).
    resolution_note: Mapped[str | None] = mapped_column(Text)
    # planning: when a message said it opened, and said it resolved (app/alerts/announce.py).
    announced_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    announced_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertDigest(Base):
    """planning: one daily summary per local day, however many processes announce."""

    __tablename__ = "alert_digests"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
