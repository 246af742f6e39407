"""YouTube: schemas and validation."""

from __future__ import annotations

from typing import Literal

from connectors.base import PlatformConfig, PlatformCredentials, Problem, PublishRequest
from connectors.rules import MB, media_types

MAX_TITLE = 100
MAX_DESCRIPTION_BYTES = 5000
MEDIA = {
    t: 256 * 1024 * MB
    for t in ("video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/mpeg")
}


class YouTubeConfig(PlatformConfig):
    privacy_status: Literal["private", "unlisted", "public"] = "private"
    category_id: str = "22"
    token_url: str | None = None


class YouTubeCredentials(PlatformCredentials):
    refresh_token: str
    client_id: str
    client_secret: str
    access_token: str | None = None


def validate(request: PublishRequest) -> list[Problem]:
    problems: list[Problem] = []
    title = (request.title or "").strip()
    if not title:
        problems.append(Problem("title", "YouTube needs a title"))
    elif len(title) > MAX_TITLE:
        problems.append(Problem("title", f"{len(title)} characters, the limit is {MAX_TITLE}"))
    if any(c in title for c in "<>"):
        problems.append(Problem("title", "YouTube titles may not contain < or >"))
    size = len(request.text.encode())
    if size > MAX_DESCRIPTION_BYTES:
        problems.append(Problem("text", f"{size} bytes, the limit is {MAX_DESCRIPTION_BYTES}"))
    if any(c in request.text for c in "<>"):
        problems.append(Problem("text", "YouTube descriptions may not contain < or >"))
    videos = [m for m in request.media if m.kind == "video"]
    if len(videos) != 1 or len(request.media) != 1:
        problems.append(Problem("media_ids", "YouTube needs exactly one video"))
    else:
        problems += media_types(request.media, MEDIA, "YouTube")
    return problems
