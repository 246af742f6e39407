"""Validation rules shared by several platforms. Pure functions over a PublishRequest.

`within_limits` checks a request against the `Limits` a connector class declares;
each class's `validate` is that plus any rule only its platform has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from connectors.base import Connector, MediaFile, Permanent, Problem, PublishRequest

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
    media: Iterable[MediaFile], allowed: Mapping[str, int], platform: str
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


def title_problems(platform: type[Connector], title: str | None) -> list[Problem]:
    limits, stripped = platform.limits, (title or "").strip()
    if limits.title_required and not stripped:
        return [Problem("title", f"{platform.short_label} needs a title")]
    return max_chars(stripped, limits.title, "title") if limits.title is not None else []


def length_problems(platform: type[Connector], request: PublishRequest) -> list[Problem]:
    measure = platform.measure(request)
    if not measure.over:
        return []
    return [Problem("text", f"{measure.used} of {measure.limit} {measure.unit}")]


def media_problems(platform: type[Connector], media: tuple[MediaFile, ...]) -> list[Problem]:
    limits = platform.limits
    if limits.single_file is not None and len(media) != 1:
        return [
            Problem("media_ids", f"{platform.short_label} needs exactly one {limits.single_file}")
        ]
    problems = []
    if limits.media_types is not None:
        problems += media_types(media, limits.media_types, platform.short_label)
    if limits.max_images is not None or limits.max_videos is not None:
        problems += media_count(
            media,
            max_images=limits.max_images if limits.max_images is not None else len(media),
            max_videos=limits.max_videos if limits.max_videos is not None else len(media),
        )
    return problems


def within_limits(platform: type[Connector], request: PublishRequest) -> list[Problem]:
    """Every problem with `request` that the platform's declared `limits` name."""
    problems = title_problems(platform, request.title)
    if platform.limits.text_required:
        problems += text_required(request)
    problems += length_problems(platform, request)
    return problems + media_problems(platform, request.media)


def refuse(problems: list[Problem], *, code: str) -> None:
    """Before anything is sent: a request its platform's rules refuse goes no further.

    The posts service runs the same rules when a post is scheduled; this guards what a
    connector's own steps rely on (YouTube's one video), with the same words.
    """
    if problems:
        raise Permanent("; ".join(p.message for p in problems), code=code)
