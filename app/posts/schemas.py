from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.coverage.schemas import CoverageCellOut
from app.insights.schemas import MetricsOut
from app.posts.status import PostStatus
from app.schemas import Flag, Input, Output, TimeZoneName, UTCTime
from connectors.base import HttpUrlStr

# Longer texts fit no platform; the cap also bounds the work validation does per post.
MAX_TEXT_LENGTH = 10_000

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=MAX_TEXT_LENGTH)]
Title = Annotated[str, Field(max_length=300)]
Link = Annotated[HttpUrlStr, Field(max_length=2048)]


class Version(Input):
    """A channel's own fields (app/exchange/versions.py); absent or null: the main one."""

    text: Text | None = None
    title: Title | None = None
    link: Link | None = None


# channel id -> its version; only channels the post uses may have one.
Versions = Annotated[dict[Id, Version], Field(max_length=100)]


class VersionOut(Output):
    text: str | None = None
    title: str | None = None
    link: str | None = None


class PostCreate(Input):
    text: Text = ""
    title: Title | None = None
    link: Link | None = None
    media_ids: list[Id] = Field(default_factory=list, max_length=20)
    objective_ids: list[Id] = Field(default_factory=list, max_length=50)
    channel_ids: list[Id] = Field(default_factory=list, max_length=100)
    scheduled_at: UTCTime | None = None
    # Publish as soon as possible instead of at scheduled_at (which must then be absent).
    publish_now: Flag = False
    internal_only: Flag = False
    status: Literal["draft", "scheduled"] = "scheduled"
    # Tracked links: false leaves this post's links as written (app/exchange/utm.py).
    utm: Flag = True
    versions: Versions = Field(default_factory=dict)
    # X: replies after the post, each to the one before; Facebook: a comment under it.
    thread: list[Text] = Field(default_factory=list, max_length=25)
    first_comment: Text | None = None
    # planning: an RFC 5545 RRULE repeating the post from scheduled_at, read in
    # `timezone` (default CADENCE_TIMEZONE); see app/planning/recurrence.py.
    recurrence: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    timezone: TimeZoneName | None = None
    # planning: take the next free posting slot of the post's one objective.
    queue: Flag = False
    # planning: keep it in its objective's evergreen library instead of the calendar.
    evergreen: Flag = False


class PostUpdate(Input):
    text: Text | None = None
    title: Title | None = None
    link: Link | None = None
    media_ids: list[Id] | None = Field(default=None, max_length=20)
    objective_ids: list[Id] | None = Field(default=None, max_length=50)
    channel_ids: list[Id] | None = Field(default=None, max_length=100)
    scheduled_at: UTCTime | None = None
    publish_now: Flag = False
    internal_only: Flag | None = None
    status: Literal["draft", "scheduled"] | None = None
    utm: Flag | None = None
    versions: Versions | None = None
    thread: list[Text] | None = Field(default=None, max_length=25)
    first_comment: Text | None = None


NULLABLE_ON_PATCH = frozenset({"title", "link", "scheduled_at", "first_comment"})


class PartOut(Output):
    index: int
    external_id: str
    permalink: str | None


class DeliveryOut(Output):
    id: str
    post_id: str
    channel_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    published_at: datetime | None
    external_id: str | None
    permalink: str | None
    last_error: str | None
    error_kind: str | None
    # insights: the latest engagement figures (None until any are known)
    metrics: MetricsOut | None = None
    # exchange: the parts that are out (0 the post; then its thread or first comment).
    parts: list[PartOut] = Field(default_factory=list)


class PostOut(Output):
    id: str
    text: str
    title: str | None
    link: str | None
    media_ids: list[str]
    objective_ids: list[str]
    channel_ids: list[str]
    scheduled_at: datetime | None
    internal_only: bool
    utm: bool
    versions: dict[str, VersionOut]
    thread: list[str]
    first_comment: str | None
    status: PostStatus
    created_by_id: str | None
    updated_by_id: str | None
    created_at: datetime
    updated_at: datetime
    deliveries: list[DeliveryOut]
    # planning: the series this post is an occurrence of, if any.
    series_id: str | None = None
    evergreen: bool = False
    # planning: a library post waiting for approval or rejected: auto-fill skips it.
    library_held: bool = False
    filled_from: str | None = None
    auto_filled: bool = False


class PostWithCoverage(PostOut):
    """A post just created, changed or cancelled, with the objective-days it touched."""

    coverage: list[CoverageCellOut]
    # planning: e.g. the post is scheduled on a blackout day (allowed, but said).
    warnings: list[str] = Field(default_factory=list)


# Posts one POST /posts/batch may create (app.posts.service.MAX_BATCH).
MAX_BATCH = 1000


class PostBatch(Input):
    posts: list[PostCreate] = Field(min_length=1, max_length=MAX_BATCH)


class PostBatchOut(Output):
    """The posts created, in the order given, and the objective-days they touched."""

    items: list[PostOut]
    coverage: list[CoverageCellOut]
