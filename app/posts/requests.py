"""Build the connector's view of a post: one PublishRequest per channel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from app.media.models import Media
from connectors.base import MediaFile, ObjectiveRef, PublishRequest


class Named(Protocol):
    """An objective, or a row with its id and name."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def media_file(media: Media, *, media_dir: Path, base_url: str) -> MediaFile:
    return MediaFile(
        id=media.id,
        filename=media.filename,
        content_type=media.content_type,
        size=media.size,
        path=media_dir / media.storage_path,
        width=media.width,
        height=media.height,
        url=f"{base_url.rstrip('/')}/media/{media.id}/{media.filename}",
    )


def publish_request(
    *,
    delivery_id: str,
    post_id: str,
    text: str,
    title: str | None,
    link: str | None,
    media: Iterable[Media],
    objectives: Iterable[Named],
    scheduled_at: datetime | None,
    internal_only: bool,
    media_dir: Path,
    base_url: str,
) -> PublishRequest:
    return PublishRequest(
        delivery_id=delivery_id,
        post_id=post_id,
        text=text,
        title=title,
        link=link,
        media=tuple(media_file(m, media_dir=media_dir, base_url=base_url) for m in media),
        objectives=tuple(ObjectiveRef(o.id, o.name) for o in objectives),
        scheduled_at=scheduled_at,
        internal_only=internal_only,
        post_url=f"{base_url.rstrip('/')}/posts/{post_id}",
    )
