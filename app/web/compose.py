"""The compose form: reading it, filling it from a post, and the live per-channel check.

The check runs each chosen channel's real `validate` (the one the posts service runs
when a post is scheduled) on the text as typed; the counter is the connector class's
own `measure()` (X's weighted length, bytes for YouTube's description, characters
elsewhere) against its declared limit, never counted differently here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.channels.models import Channel, internal_only_problem
from app.errors import FieldProblem, problems_from_pydantic
from app.media.models import Media
from app.posts.requests import publish_request
from app.posts.schemas import PostCreate, PostOut, PostUpdate
from connectors.registry import channel_platform


@dataclass
class ComposeForm:
    text: str = ""
    title: str = ""
    link: str = ""
    objective_ids: list[str] = field(default_factory=list)
    channel_ids: list[str] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    internal_only: bool = False
    day: str = ""
    time: str = ""
    action: str = "schedule"
    # exchange: channel id -> its own fields (per-network versions).
    versions: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: FormData) -> ComposeForm:
        def one(name: str) -> str:
            value = form.get(name)
            return value if isinstance(value, str) else ""

        def many(name: str) -> list[str]:
            return [v for v in form.getlist(name) if isinstance(v, str) and v]

        return cls(
            text=one("text").replace("\r\n", "\n"),
            title=one("title").strip(),
            link=one("link").strip(),
            objective_ids=many("objective_ids"),
            channel_ids=many("channel_ids"),
            media_ids=many("media_ids"),
            internal_only=one("internal_only") in ("on", "true", "1"),
            day=one("day").strip(),
            time=one("time").strip(),
            action="draft" if one("action") == "draft" else "schedule",
            versions=versions_from_form(form),
        )

    @classmethod
    def from_post(cls, post: PostOut, zone: ZoneInfo) -> ComposeForm:
        local = post.scheduled_at.astimezone(zone) if post.scheduled_at else None
        return cls(
            text=post.text,
            title=post.title or "",
            link=post.link or "",
            objective_ids=list(post.objective_ids),
            channel_ids=list(post.channel_ids),
            media_ids=list(post.media_ids),
            internal_only=post.internal_only,
            day=local.strftime("%Y-%m-%d") if local else "",
            time=local.strftime("%H:%M") if local else "",
            action="draft" if post.status == "draft" else "schedule",
            versions={k: v.model_dump(exclude_none=True) for k, v in post.versions.items()},
        )

    def scheduled_at(self, zone: ZoneInfo) -> tuple[datetime | None, list[FieldProblem]]:
        """The date and time as typed, in the person's zone, as an aware UTC time."""
        if not self.day and not self.time:
            return None, []
        if not self.day:
            return None, [FieldProblem(("body", "day"), "choose a date as well as a time")]
        try:
            naive = datetime.strptime(f"{self.day} {self.time or '09:00'}", "%Y-%m-%d %H:%M")
        except ValueError:
            return None, [
                FieldProblem(("body", "day"), "give the date as YYYY-MM-DD and the time as HH:MM")
            ]
        aware = naive.replace(tzinfo=zone)
        # A wall time skipped when the clocks go forward does not survive the round trip.
        if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            return None, [
                FieldProblem(
                    ("body", "time"),
                    f"{self.time} does not exist on {self.day} in {zone.key} (the clocks change); "
                    "choose another time",
                )
            ]
        return aware.astimezone(UTC), []

    def _fields(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "title": self.title or None,
            "link": self.link or None,
            "media_ids": self.media_ids,
            "objective_ids": self.objective_ids,
            "channel_ids": self.channel_ids,
            "internal_only": self.internal_only,
            "status": "draft" if self.action == "draft" else "scheduled",
            # A channel taken off the form takes its version along.
            "versions": {k: v for k, v in self.versions.items() if k in self.channel_ids},
        }

    def to_create(self, zone: ZoneInfo) -> tuple[PostCreate | None, list[FieldProblem]]:
        when, problems = self.scheduled_at(zone)
        try:
            data = PostCreate.model_validate({**self._fields(), "scheduled_at": when})
        except ValidationError as exc:
            return None, problems + problems_from_pydantic(exc, ("body",))
        return (None, problems) if problems else (data, [])

    def to_update(
        self, zone: ZoneInfo, stored: PostOut
    ) -> tuple[PostUpdate | None, list[FieldProblem]]:
        when, problems = self.scheduled_at(zone)
        values = self._fields()
        # Leaving the time as it was is not moving the post (a failed post whose time
        # has passed can be fixed and re-scheduled without choosing a new time).
        if (self.day, self.time) != _local_parts(stored.scheduled_at, zone):
            values["scheduled_at"] = when
        try:
            data = PostUpdate.model_validate(values)
        except ValidationError as exc:
            return None, problems + problems_from_pydantic(exc, ("body",))
        return (None, problems) if problems else (data, [])


VERSION_FIELDS = ("text", "title", "link")


def versions_from_form(form: FormData) -> dict[str, dict[str, str]]:
    """`version_text.<channel id>` (and `version_title.`, `version_link.`) fields.

    A field left empty is the main one: it is left out of the version (a channel
    whose three fields are empty has no version)."""
    found: dict[str, dict[str, str]] = {}
    for key, value in form.multi_items():
        kind, dot, channel_id = key.partition(".")
        name = kind.removeprefix("version_")
        if not dot or name == kind or name not in VERSION_FIELDS or not isinstance(value, str):
            continue
        value = value.replace("\r\n", "\n")
        value = value if name == "text" else value.strip()
        if value.strip():
            found.setdefault(channel_id, {})[name] = value
    return found


def _local_parts(value: datetime | None, zone: ZoneInfo) -> tuple[str, str]:
    if value is None:
        return "", ""
    local = value.astimezone(zone)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def check_channels(
    channels: Sequence[Channel],
    media: Sequence[Media],
    *,
    text: str,
    title: str | None,
    link: str | None,
    internal_only: bool,
    media_dir: Path,
    base_url: str,
) -> list[dict[str, Any]]:
    """For each channel: its counter and the problems its platform's `validate` finds."""
    request = publish_request(
        delivery_id="",
        post_id="preview",
        text=text,
        title=title or None,
        link=link or None,
        media=media,
        objectives=(),
        scheduled_at=None,
        internal_only=internal_only,
        media_dir=media_dir,
        base_url=base_url,
    )
    out = []
    for channel in channels:
        platform = channel_platform(channel.platform, channel.config)
        measure = platform.measure(request)
        problems = [{"field": p.field, "message": p.message} for p in platform.validate(request)]
        refused = internal_only_problem(channel, internal_only=internal_only)
        if refused is not None:
            problems.append({"field": "channel_ids", "message": refused})
        out.append(
            {
                "channel_id": channel.id,
                "name": channel.name,
                "platform": platform.label,
                "audience": channel.audience,
                "count": measure.used,
                "limit": measure.limit,
                "unit": measure.unit,
                "over": measure.over,
                "problems": problems,
            }
        )
    return out
