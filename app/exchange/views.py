"""POST /posts/import and GET /posts/export: posts in and out of spreadsheets.

Included before the posts router (app/api.py): GET /posts/{post_id} would otherwise
take /posts/export for a post called "export"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from app.deps import ApiEditor, ApiViewer, NowDep, RuntimeDep, SessionDep
from app.errors import FieldProblem, InvalidInput
from app.exchange import feeds, service
from app.pagination import Page, PageDep
from app.posts import flows
from app.schemas import FIRST_DAY, LAST_DAY

router = APIRouter(tags=["posts"])

# The longest span one export covers, like the reports'.
MAX_EXPORT_DAYS = 366
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


class ImportOut(BaseModel):
    rows: int
    dry_run: bool
    # The posts created, in the order of the rows; empty for a dry run.
    post_ids: list[str]


def _no_file(msg: str) -> InvalidInput:
    return InvalidInput([FieldProblem(("body", "file"), msg)])


async def csv_upload(request: Request) -> bytes:
    """The file's bytes: the body itself (text/csv) or the multipart field `file`."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in CSV_TYPES:
        return await request.body()
    if kind != "multipart/form-data":
        raise _no_file("send the file as a text/csv body or as the multipart field 'file'")
    limit = request.app.state.runtime.settings.max_import_bytes
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=limit)
    except Exception as exc:  # a broken multipart body: name the field, not a 500
        raise _no_file(f"the multipart body could not be read ({type(exc).__name__})") from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise _no_file("the multipart body has no file field 'file'")
    return await upload.read()


def _bound(name: str, value: str, zone: str, *, end: bool) -> datetime:
    """A time with an offset, or a day: its local midnight (the next one for an end)."""
    try:
        if len(value.strip()) == 10:
            day = date.fromisoformat(value.strip())
            if not FIRST_DAY <= day <= LAST_DAY:
                raise ValueError
            day += timedelta(days=1) if end else timedelta()
            return datetime.combine(day, time(), ZoneInfo(zone)).astimezone(UTC)
        when = datetime.fromisoformat(value.strip())
        if when.tzinfo is None:
            raise ValueError
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            [
                FieldProblem(
                    ("query", name),
                    "must be a day (2026-12-01) or a time with an offset "
                    "(2026-12-01T09:30:00+01:00)",
                )
            ]
        ) from None


CsvBody = Annotated[bytes, Depends(csv_upload)]


@router.post(
    "/posts/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportOut,
    openapi_extra=_IMPORT_BODY,
)
def import_posts(
    data: CsvBody,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiEditor,
    after: BackgroundTasks,
    response: Response,
    dry_run: bool = False,
) -> ImportOut | JSONResponse:
    """Posts from a CSV file, one a row, all or none (see docs/api.md#import-and-export).

    A file with problems answers 422 naming each: `{row, line, column, msg}` (with `loc`
    `["body", row, column]`); nothing is stored. `dry_run=true` only checks."""
    zone = user.timezone or runtime.settings.timezone
    try:
        done = service.import_posts(
            session, runtime, data=data, user=user, zone=zone, now=now, dry_run=dry_run
        )
    except service.ImportRefused as exc:
        detail = [p.as_dict() for p in exc.problems]
        return JSONResponse({"detail": detail}, status_code=422)
    if dry_run:
        response.status_code = status.HTTP_200_OK
    if done.posts:
        flows.after_post_change(
            session, runtime, now=now, touched=flows.touches(*done.posts), after=after
        )
    return ImportOut(rows=done.rows, dry_run=done.dry_run, post_ids=[p.id for p in done.posts])


@router.get(
    "/posts/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_posts(
    session: SessionDep,
    runtime: RuntimeDep,
    user: ApiViewer,
    from_: Annotated[str, Query(alias="from", max_length=40)],
    to: Annotated[str, Query(max_length=40)],
) -> Response:
    """Draft and scheduled posts from `from` to `to` (at most 366 days) as CSV, with the
    columns POST /posts/import reads: the file imports unchanged. Each bound is a time
    with an offset or a day in the caller's time zone (`to` then includes that day)."""
    zone = user.timezone or runtime.settings.timezone
    start = _bound("from", from_, zone, end=False)
    end = _bound("to", to, zone, end=True)
    if end <= start:
        raise InvalidInput([FieldProblem(("query", "to"), "must be after from")])
    if (end - start).days > MAX_EXPORT_DAYS:
        raise InvalidInput(
            [FieldProblem(("query", "to"), f"at most {MAX_EXPORT_DAYS} days at a time")]
        )
    body = service.export_posts(session, start=start, end=end, zone=zone)
    name = f"cadence-posts-{start.date()}-{end.date()}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


feeds_router = APIRouter(prefix="/feeds", tags=["feeds"])


class FeedCreated(BaseModel):
    id: str
    # The secret address, shown in this answer only (only a hash of its token is kept).
    url: str
    created_at: datetime


class FeedOut(BaseModel):
    id: str
    created_at: datetime


@feeds_router.post("", status_code=status.HTTP_201_CREATED)
def create_feed(
    session: SessionDep, runtime: RuntimeDep, now: NowDep, user: ApiViewer
) -> FeedCreated:
    """A secret iCalendar URL of the posts you may see; subscribe to it in a calendar
    app. The `url` is in this answer only."""
    feed, token = feeds.create_feed(session, user=user, now=now)
    url = feeds.feed_url(runtime.settings.base_url, token)
    return FeedCreated(id=feed.id, url=url, created_at=feed.created_at)


@feeds_router.get("")
def list_feeds(session: SessionDep, page: PageDep, user: ApiViewer) -> Page[FeedOut]:
    """Your feeds (never their URLs)."""
    rows, total = feeds.list_feeds(session, user=user, limit=page.limit, offset=page.offset)
    return Page(items=[FeedOut(id=f.id, created_at=f.created_at) for f in rows], total=total)


@feeds_router.delete("/{feed_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_feed(feed_id: str, session: SessionDep, user: ApiViewer) -> Response:
    """Revoke one of your feeds: its URL answers 404 from now on. Another person's
    feed is 404."""
    feeds.revoke_feed(session, user=user, feed_id=feed_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
