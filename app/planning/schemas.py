from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.coverage.schemas import CoverageCellOut
from app.posts.schemas import Id, Link, Text, Title
from app.schemas import Day, Flag, Input, Output, TimeZoneName

# "HH:MM", 00:00 to 23:59 (a fixed-length pattern: linear).
TimeOfDay = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class SeriesUpdate(Input):
    """Changes every future occurrence not edited on its own; fields left out stay."""

    text: Text | None = None
    title: Title | None = None
    link: Link | None = None
    media_ids: list[Id] | None = Field(default=None, max_length=20)
    objective_ids: list[Id] | None = Field(default=None, max_length=50)
    channel_ids: list[Id] | None = Field(default=None, max_length=100)
    internal_only: Flag | None = None
    # Local time of day, in the series' time zone.
    time: TimeOfDay | None = None
    recurrence: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    timezone: TimeZoneName | None = None


class SeriesOut(Output):
    id: str
    recurrence: str
    timezone: str
    time: str
    starts_at: datetime
    # Every occurrence before this time has been made (the horizon when last extended).
    extended_to: datetime
    cancelled: bool
    text: str
    title: str | None
    link: str | None
    internal_only: bool
    status: str
    media_ids: list[str]
    objective_ids: list[str]
    channel_ids: list[str]
    created_by_id: str | None
    created_at: datetime
    updated_at: datetime


class SeriesChanged(SeriesOut):
    """The series after an edit: the occurrences changed (or cancelled), the ones made
    anew, and the objective-days they touched."""

    changed_post_ids: list[str]
    created_post_ids: list[str]
    coverage: list[CoverageCellOut]


class PauseIn(Input):
    scope: Literal["all", "external"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class PauseOut(Output):
    paused: bool
    scope: str | None = None
    reason: str | None = None
    paused_by_id: str | None = None
    paused_by: str | None = None  # the email of who paused
    paused_at: datetime | None = None


class BlackoutIn(Input):
    date_from: Day
    date_to: Day
    objective_id: Id | None = None  # null: every objective
    reason: Annotated[str, Field(max_length=500)] = ""


class BlackoutOut(Output):
    id: str
    date_from: date
    date_to: date
    objective_id: str | None
    reason: str
    created_by_id: str | None
    created_at: datetime


# Slots one objective may have: every half hour of a week is 336.
MAX_SLOTS = 336


class SlotIn(Input):
    weekday: Annotated[int, Field(strict=True, ge=0, le=6)]  # Monday = 0
    time: TimeOfDay
    channel_ids: list[Id] = Field(default_factory=list, max_length=100)


class SlotOut(Output):
    weekday: int
    time: str
    channel_ids: list[str]
