"""The media library: register received files (deduplicated by sha256), list, delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.media.models import Media
from app.media.schemas import MediaOut
from app.media.sniff import Sniffed
from app.media.storage import MediaStore, Received, discard, display_filename
from app.posts.models import PostMedia


def get(session: Session, media_id: str) -> Media:
    media = session.get(Media, media_id)
    if media is None:
        raise NotFound("media", media_id)
    return media


def find_by_sha256(session: Session, sha256: str) -> Media | None:
    return session.scalar(select(Media).where(Media.sha256 == sha256))


def register(
    session: Session,
    *,
    received: Received,
    sniffed: Sniffed,
    store: MediaStore,
    user_id: str | None,
    now: datetime,
) -> tuple[Media, bool]:
    """The media for these bytes, and whether it is new.

    The same bytes uploaded again give the existing media (its file is put back if it
    went missing); new bytes are moved to their sha256 path and get a row. The received
    temporary file is moved or removed either way. Two uploads of the same new bytes at
    once both move identical bytes to the same path; the second INSERT fails on the
    unique sha256 and the caller looks the first one up (see views.upload_media).
    """
    existing = find_by_sha256(session, received.sha256)
    if existing is not None:
        if store.exists(existing.storage_path):
            discard(received.temp_path)
        else:
            store.keep(received.temp_path, existing.storage_path)
        return existing, False
    storage_path = MediaStore.storage_path(received.sha256, sniffed.extension)
    store.keep(received.temp_path, storage_path)
    media = Media(
        filename=display_filename(received.client_filename, sniffed.extension),
        content_type=sniffed.content_type,
        size=received.size,
        sha256=received.sha256,
        width=sniffed.width,
        height=sniffed.height,
        storage_path=storage_path,
        created_by_id=user_id,
        created_at=now,
    )
    session.add(media)
    session.flush()
    return media, True


def delete(session: Session, *, media_id: str) -> str:
    """Delete the row unless a post uses it; return the file's storage path.

    The caller removes the file once the deletion is committed (see `remove_file`).
    """
    media = get(session, media_id)
    used = session.scalar(select(exists().where(PostMedia.media_id == media.id)))
    if used:
        raise Conflict(f"media {media.id} is used by a post; remove it from the post first")
    session.delete(media)
    session.flush()
    return media.storage_path


def remove_file(session: Session, *, storage_path: str, store: MediaStore) -> None:
    """Remove a deleted media's file, unless the same bytes were uploaded again since."""
    if session.scalar(select(exists().where(Media.storage_path == storage_path))):
        return
    store.remove(storage_path)


def list_(session: Session, *, limit: int, offset: int) -> tuple[Sequence[Media], int]:
    total = session.scalar(select(func.count()).select_from(Media)) or 0
    items = session.scalars(
        select(Media).order_by(Media.created_at.desc(), Media.id).limit(limit).offset(offset)
    ).all()
    return items, total


def public_url(media: Media, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/media/{media.id}/{media.filename}"


def to_out(media: Media, base_url: str) -> MediaOut:
    return MediaOut(
        id=media.id,
        filename=media.filename,
        content_type=media.content_type,
        size=media.size,
        sha256=media.sha256,
        width=media.width,
        height=media.height,
        url=public_url(media, base_url),
        created_by_id=media.created_by_id,
        created_at=media.created_at,
    )
