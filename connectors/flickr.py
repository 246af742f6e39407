"""Flickr: schemas and validation."""

from __future__ import annotations

from connectors.base import PlatformConfig, PlatformCredentials, Problem, PublishRequest
from connectors.rules import MB, media_types

MEDIA = {
    "image/jpeg": 200 * MB,
    "image/png": 200 * MB,
    "image/gif": 200 * MB,
    "image/tiff": 200 * MB,
    "video/mp4": 1024 * MB,
    "video/quicktime": 1024 * MB,
}


class FlickrConfig(PlatformConfig):
    user_nsid: str
    is_public: bool = True
    upload_base: str | None = None


class FlickrCredentials(PlatformCredentials):
    consumer_key: str
    consumer_secret: str
    oauth_token: str
    oauth_token_secret: str


def validate(request: PublishRequest) -> list[Problem]:
    if len(request.media) != 1:
        return [Problem("media_ids", "Flickr needs exactly one photo or video")]
    return media_types(request.media, MEDIA, "Flickr")
