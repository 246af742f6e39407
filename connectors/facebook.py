"""Facebook Pages: schemas and validation."""

from __future__ import annotations

from connectors.base import PlatformConfig, PlatformCredentials, Problem, PublishRequest
from connectors.rules import MB, max_chars, media_count, media_types, text_required

DEFAULT_API_VERSION = "v24.0"
MAX_MESSAGE = 63_206
MEDIA = {
    "image/jpeg": 10 * MB,
    "image/png": 10 * MB,
    "image/gif": 10 * MB,
    "image/webp": 10 * MB,
    "video/mp4": 1024 * MB,
    "video/quicktime": 1024 * MB,
}


class FacebookConfig(PlatformConfig):
    page_id: str
    api_version: str = DEFAULT_API_VERSION


class FacebookCredentials(PlatformCredentials):
    page_access_token: str


def validate(request: PublishRequest) -> list[Problem]:
    problems = text_required(request)
    problems += max_chars(request.text, MAX_MESSAGE, "text")
    problems += media_types(request.media, MEDIA, "Facebook")
    problems += media_count(request.media, max_images=10, max_videos=1)
    return problems
