"""The spreadsheet import page: upload a CSV file, see its rows with their problems,
then import on confirm. It runs the same import as POST /api/v1/posts/import."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from app.deps import NowDep, SessionDep, no_nul_in_url
from app.exchange import service, sheet
from app.posts import flows
from app.users.models import User
from app.web.infrastructure import (
    FormDep,
    PageEditor,
    csrf_protect,
    form_text,
    redirect,
    render,
    runtime_of,
    user_zone_name,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)
# Rows the preview shows; the problems of every row are listed whatever the file's size.
PREVIEW_ROWS = 200


@router.get("/import")
def import_page(request: Request, session: SessionDep, user: PageEditor) -> Response:
    return _page(request, session, user, {})


def _page(
    request: Request, session: Session, user: User, context: dict[str, Any], status: int = 200
) -> Response:
    return render(
        request,
        "import.html",
        {"columns": sheet.COLUMNS, "rows": [], "problems": [], "csv": "", **context},
        user=user,
        session=session,
        status=status,
    )


def _uploaded(form: FormData) -> bytes:
    """The file chosen (a first visit) or the text confirmed (the preview's form)."""
    value = form.get("file")
    if isinstance(value, UploadFile):
        # A sync route runs in a worker thread: reading the spooled file blocks no one.
        return value.file.read()
    try:
        return base64.b64decode(form_text(form, "csv"), validate=True)
    except ValueError:
        return b""


def _preview(data: bytes, problems: list[sheet.RowProblem]) -> dict[str, Any]:
    """The rows to show (those with problems first), each with its problems by column."""
    read = sheet.read(data)
    by_row: dict[int, dict[str, list[str]]] = {}
    for p in problems:
        by_row.setdefault(p.row, {}).setdefault(p.column, []).append(p.msg)
    rows = [r for r in read.rows if r.row in by_row]
    rows += [r for r in read.rows if r.row not in by_row]
    return {
        "rows": sorted(rows[:PREVIEW_ROWS], key=lambda r: r.row),
        "total": len(read.rows),
        "by_row": by_row,
        "file_problems": [p for p in problems if p.row == 0 or p.row not in _numbers(read)],
    }


def _numbers(read: sheet.Sheet) -> set[int]:
    return {r.row for r in read.rows}


@router.post("/import")
def import_read(
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageEditor,
    form: FormDep,
    after: BackgroundTasks,
) -> Response:
    """Check the file (dry run) and show it; with `confirm`, import it."""
    runtime = runtime_of(request)
    data = _uploaded(form)
    confirm = form_text(form, "confirm") == "yes"
    try:
        done = service.import_posts(
            session,
            runtime,
            data=data,
            user=user,
            zone=user_zone_name(user, runtime),
            now=now,
            dry_run=not confirm,
        )
    except service.ImportRefused as exc:
        context = {"problems": exc.problems, **_preview(data, exc.problems)}
        return _page(request, session, user, context, status=422)
    if confirm:
        flows.after_post_change(
            session, runtime, now=now, touched=flows.touches(*done.posts), after=after
        )
        return redirect("/calendar", notice="imported")
    # base64: a form would turn the file's line breaks inside cells into CRLF.
    context = {"csv": base64.b64encode(data).decode(), "checked": done.rows, **_preview(data, [])}
    return _page(request, session, user, context)
