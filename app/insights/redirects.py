"""`GET /l/{code}`: a tracked link. No login; counts the click, then 302 to the URL the
post carried (see insights.links). It writes, so it opens its own write transaction
rather than the read-only session GET requests get."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.db import transaction
from app.deps import RuntimeDep, no_nul_in_url
from app.insights.links import follow

router = APIRouter(include_in_schema=False, dependencies=[Depends(no_nul_in_url)])


@router.get("/l/{code}")
def tracked_link(code: str, request: Request, runtime: RuntimeDep) -> Response:
    with transaction(runtime.sessions) as session:
        url = follow(session, code, user_agent=request.headers.get("user-agent"))
    if url is None:
        return Response("no such link\n", status_code=404, media_type="text/plain")
    # Not cached: each visit is a click to count.
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
