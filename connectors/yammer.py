"""Yammer / Viva Engage: schemas and validation."""

from __future__ import annotations

from connectors.base import PlatformConfig, PlatformCredentials, Problem, PublishRequest
from connectors.rules import MB, media_types, text_required

MEDIA = {
    t: 4 * MB for t in ("image/jpeg", "image/png", "image/gif", "application/pdf", "video/mp4")
}


class YammerConfig(PlatformConfig):
    group_id: str
    network_id: str | None = None


class YammerCredentials(PlatformCredentials):
    access_token: str


def validate(request: PublishRequest) -> list[Problem]:
    return text_required(request) + media_types(request.media, MEDIA, "Yammer")
