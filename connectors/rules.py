"""Validation rules shared by several platforms. Pure functions over a PublishRequest."""

from __future__ import annotations

from collections.abc import Iterable

from connectors.base import MediaFile, Problem, PublishRequest

MB = 1024 * 1024


def text_required(request: PublishRequest) -> list[Problem]:
    if not request.text.strip() and not request.media:
        return [Problem("text", "text is empty")]
    return []


def max_chars(value: str | None, limit: int, field: str) -> list[Problem]:
    if value is not None and len(value) > limit:
        return [Problem(field, f"{len(value)} characters, the limit is {limit}")]
    return []


def media_types(
    media: Iterable[MediaFile], allowed: dict[str, int], platform: str
) -> list[Problem]:
    """Each file's type must be in `allowed` (content type -> max bytes)."""
    problems = []
    for item in media:
        limit = allowed.get(item.content_type)
        if limit is None:
            problems.append(
                Problem(
                    "media_ids",
                    f"{item.filename}: {item.content_type} is not accepted by {platform}",
                )
            )
        elif item.size > limit:
            problems.append(
                Problem(
                    "media_ids",
                    f"{item.filename}: {item.size / MB:.1f} MB, {platform} takes at most {limit // MB} MB",
                )
            )
    return problems


def media_count(media: tuple[MediaFile, ...], *, max_images: int, max_videos: int) -> list[Problem]:
    videos = [m for m in media if m.kind in ("video", "gif")]
    images = [m for m in media if m.kind == "image"]
    if videos and (images or len(videos) > max_videos):
        return [Problem("media_ids", f"at most {max_videos} video or GIF, and not with images")]
    if len(images) > max_images:
        return [Problem("media_ids", f"{len(images)} images, the limit is {max_images}")]
    return []
