from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdColumn, UTCDateTime, new_id


class Series(Base):
    """A recurring post: the rule and the post every future occurrence is made from.

    Occurrences are ordinary posts (posts.series_id) created up to the horizon;
    `extended_to` says how far: every time of the rule before it has its post. The
    periodic extension moves it with a compare-and-set, so one process makes each
    occurrence however many run.
    """

    __tablename__ = "series"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    rule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    # The first occurrence: the rule's DTSTART, read in `timezone`.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    extended_to: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The post each new occurrence copies (its time comes from the rule).
    text: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str | None] = mapped_column(String(300))
    link: Mapped[str | None] = mapped_column(String(2048))
    internal_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    media_ids: Mapped[list[str]] = mapped_column(JSON)
    objective_ids: Mapped[list[str]] = mapped_column(JSON)
    channel_ids: Mapped[list[str]] = mapped_column(JSON)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PauseScope(StrEnum):
    all = "all"  # every post
    external = "external"  # posts to external channels; internal ones still go out


class PauseSwitch(Base):
    """The one switch that stops claiming deliveries, read by every claim (at most one row).

    Alert announcements are never held: they carry the pause itself to the team."""

    __tablename__ = "pause_switch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    scope: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    paused_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Blackout(Base):
    """Days (both ends included) on which coverage asks for nothing, for all objectives
    (objective_id null) or one."""

    __tablename__ = "blackouts"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    date_from: Mapped[date] = mapped_column(Date, index=True)
    date_to: Mapped[date] = mapped_column(Date)
    objective_id: Mapped[str | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Slot(Base):
    """A weekly posting slot of an objective: a weekday and a local time (in the
    objective's zone), with the channels a queued post goes to by default."""

    __tablename__ = "slots"
    __table_args__ = (UniqueConstraint("objective_id", "weekday", "time", name="uq_slots_when"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    objective_id: Mapped[str] = mapped_column(ForeignKey("objectives.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0
    time: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    channel_ids: Mapped[list[str]] = mapped_column(JSON)


class AutofillClaim(Base):
    """One auto-fill per objective-day, however many processes see the gap: the insert
    is the claim, made in the write transaction of the post it fills the day with."""

    __tablename__ = "autofill_claims"

    objective_id: Mapped[str] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    post_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
