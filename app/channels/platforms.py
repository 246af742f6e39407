"""GET /api/v1/platforms: what each platform accepts, read from its connector class.

A client (or a person writing one) learns here which platforms a channel can be made
for, their audience, their limits and the config and credential fields each needs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import ApiViewer
from app.schemas import Output
from connectors.base import Audience
from connectors.registry import PLATFORMS, Platform

router = APIRouter(prefix="/platforms", tags=["platforms"])


class LimitsOut(Output):
    text: int | None
    text_unit: str
    text_required: bool
    title: int | None
    title_required: bool
    # Content type -> largest file in bytes; null: files go as links, any will do.
    media_types: dict[str, int] | None
    max_images: int | None
    max_videos: int | None
    single_file: str | None


class PlatformOut(Output):
    name: str
    label: str
    # null: the channel's creator chooses.
    audience: Audience | None
    limits: LimitsOut
    config_schema: dict[str, Any]
    credentials_schema: dict[str, Any]


def to_out(platform: Platform) -> PlatformOut:
    limits = platform.limits
    return PlatformOut(
        name=platform.name,
        label=platform.label,
        audience=platform.audience,
        limits=LimitsOut(
            text=limits.text,
            text_unit=limits.text_unit,
            text_required=limits.text_required,
            title=limits.title,
            title_required=limits.title_required,
            media_types=dict(limits.media_types) if limits.media_types is not None else None,
            max_images=limits.max_images,
            max_videos=limits.max_videos,
            single_file=limits.single_file,
        ),
        config_schema=platform.config_model.model_json_schema(),
        credentials_schema=platform.credentials_model.model_json_schema(),
    )


@router.get("")
def list_platforms(_: ApiViewer) -> list[PlatformOut]:
    """Every platform Cadence can publish to, in the order people pick from."""
    return [to_out(p) for p in PLATFORMS.values()]
