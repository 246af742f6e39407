"""The media API (/api/v1/media) and the public file route (/media/{id}/{filename})."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from app.db import transaction
from app.deps import ApiBriefContributor, ApiEditor, ApiViewer, RuntimeDep, SessionDep
from app.errors import NotFound
from app.media import service
from app.media.models import Media
from app.media.schemas import MediaOut
from app.media.sniff import Sniffed, UnsupportedMedia, sniff
from app.media.storage import MediaStore, Received, UploadError, discard, receive_upload
from app.pagination import Page, PageDep
from app.runtime import Runtime

router = APIRouter(prefix="/media", tags=["media"])
files_router = APIRouter(tags=["media"])

_ID = re.compile(r"[0-9a-f]{32}")


def _problem(status_code: int, loc: tuple[str, ...], msg: str, type_: str) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"loc": list(loc), "msg": msg, "type": type_}]}, status_code=status_code
    )


_UPLOAD_TYPES = {400: "malformed", 413: "too_large", 422: "value_error"}
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


def _register(
    runtime: Runtime, store: MediaStore, received: Received, sniffed: Sniffed, user_id: str
) -> tuple[MediaOut, bool]:
    def attempt() -> tuple[MediaOut, bool]:
        with transaction(runtime.sessions) as session:
            media, created = service.register(
                session,
                received=received,
                sniffed=sniffed,
                store=store,
                user_id=user_id,
                now=runtime.clock.now(),
            )
            return service.to_out(media, runtime.settings.base_url), created

    try:
        return attempt()
    except IntegrityError:
        # The same bytes were registered by a concurrent upload: answer with that one.
        return attempt()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaOut,
    openapi_extra=_UPLOAD_BODY,
    responses={
        200: {"description": "The same bytes were uploaded before: that media", "model": MediaOut},
        413: {"description": "The file is larger than CADENCE_MAX_UPLOAD_BYTES"},
        415: {"description": "The bytes are not an accepted image, video or PDF"},
    },
)
async def upload_media(
    request: Request, runtime: RuntimeDep, user: ApiBriefContributor
) -> Response:
    """Upload a file in the multipart field `file`.

    The body is streamed to a temporary file under CADENCE_MEDIA_DIR while its sha256
    and size are computed, so a large video is never held in memory. The type is
    sniffed from the bytes (the file name and the part's Content-Type are ignored);
    identical bytes are stored once: uploading them again answers 200 with the
    existing media instead of 201. The token is checked in a transaction of its own,
    closed before the body streams in, so a slow upload holds no database lock.
    """
    settings = runtime.settings
    store = MediaStore(settings.media_dir)
    try:
        received = await receive_upload(
            request.stream(),
            request.headers.get("content-type"),
            store=store,
            limit=settings.max_upload_bytes,
        )
    except UploadError as exc:
        return _problem(exc.status, exc.loc, exc.message, _UPLOAD_TYPES.get(exc.status, "error"))
    try:
        if received.size == 0:
            return _problem(422, ("body", "file"), "the file is empty", "value_error")
        try:
            sniffed = await run_in_threadpool(sniff, received.temp_path)
        except UnsupportedMedia as exc:
            return _problem(415, ("body", "file"), str(exc), "unsupported_media_type")
        out, created = await run_in_threadpool(
            _register, runtime, store, received, sniffed, user.id
        )
    finally:
        # Moved into place by register; anything left is a refused or failed upload.
        await run_in_threadpool(discard, received.temp_path)
    if created:
        return JSONResponse(
            out.model_dump(mode="json"),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/media/{out.id}"},
        )
    return JSONResponse(out.model_dump(mode="json"), status_code=status.HTTP_200_OK)


@router.get("")
def list_media(
    session: SessionDep, runtime: RuntimeDep, page: PageDep, _: ApiViewer
) -> Page[MediaOut]:
    items, total = service.list_(session, limit=page.limit, offset=page.offset)
    base_url = runtime.settings.base_url
    return Page(items=[service.to_out(m, base_url) for m in items], total=total)


@router.get("/{media_id}")
def get_media(media_id: str, session: SessionDep, runtime: RuntimeDep, _: ApiViewer) -> MediaOut:
    return service.to_out(service.get(session, media_id), runtime.settings.base_url)


def _remove_file(runtime: Runtime, storage_path: str) -> None:
    with transaction(runtime.sessions) as session:
        service.remove_file(
            session, storage_path=storage_path, store=MediaStore(runtime.settings.media_dir)
        )


@router.delete(
    "/{media_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "A post uses the media"}},
)
def delete_media(
    media_id: str,
    session: SessionDep,
    runtime: RuntimeDep,
    background: BackgroundTasks,
    _: ApiEditor,
) -> Response:
    storage_path = service.delete(session, media_id=media_id)
    # After the answer, so after the deletion is committed: a failed commit keeps the file.
    background.add_task(_remove_file, runtime, storage_path)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@files_router.get(
    "/media/{media_id}/{filename}",
    response_class=FileResponse,
    responses={404: {"description": "No such media"}},
)
@files_router.head("/media/{media_id}/{filename}", include_in_schema=False)
def serve_file(media_id: str, filename: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The stored file, without authentication.

    Platforms (Facebook, Flickr...) and webhook receivers fetch media by URL and cannot
    send Cadence's bearer token, so this route is public. The media id is a random
    128-bit value that is only ever shown to authenticated users and in the posts
    that use it: knowing the URL is the permission to read the file (a capability
    URL), the way unlisted links work elsewhere. The name must be the media's own.

    The answer carries the content type sniffed at upload, `Content-Disposition:
    inline` for images and videos and `attachment` for anything else (PDFs),
    `X-Content-Type-Options: nosniff`, `Content-Security-Policy: sandbox`, and a long
    cache lifetime (the bytes behind a media id never change). Anything else is 404.
    """
    media: Media | None = session.get(Media, media_id) if _ID.fullmatch(media_id) else None
    if media is None or media.filename != filename:
        raise NotFound("media", media_id)
    path = MediaStore(runtime.settings.media_dir).path(media.storage_path)
    if not path.is_file():
        raise NotFound("media file", media_id)
    return FileResponse(
        path,
        media_type=media.content_type,
        filename=media.filename,
        content_disposition_type=_disposition(media.content_type),
        headers={
            "X-Content-Type-Options": "nosniff",
            # The file comes from Cadence's own origin: should a browser ever render it
            # as a document (a PDF's scripts, an SVG), it runs with no origin at all.
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


def _disposition(content_type: str) -> str:
    """Images and videos are shown in place; anything else (PDFs) is downloaded."""
    return "inline" if content_type.startswith(("image/", "video/")) else "attachment"
