"""Calendar feeds on the web: the public .ics address (no login: its secret token is
the key) and the page where a person makes, replaces and revokes their feeds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import NotFound
from app.exchange import feeds
from app.users.models import User
from app.web.infrastructure import (
    FormDep,
    PageError,
    PageUser,
    csrf_protect,
    form_text,
    redirect,
    render,
    runtime_of,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


@router.get("/calendar/feeds/{token}.ics")
def feed(token: str, request: Request, session: SessionDep) -> Response:
    """The feed: 404 for a token that is unknown, revoked or a disabled person's."""
    runtime = runtime_of(request)
    user = feeds.user_for_feed(session, token)
    if user is None:
        return Response("no such calendar feed\n", status_code=404, media_type="text/plain")
    body = feeds.render(session, now=runtime.clock.now(), base_url=runtime.settings.base_url)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="cadence.ics"',
            # The URL is a secret: no shared cache may keep the answer.
            "Cache-Control": "private, max-age=300",
            "Referrer-Policy": "no-referrer",
        },
    )


def _page(request: Request, session: Session, user: User, new_url: str | None = None) -> Response:
    rows, _ = feeds.list_feeds(session, user=user, limit=100, offset=0)
    return render(
        request, "feeds.html", {"feeds": rows, "new_url": new_url}, user=user, session=session
    )


@router.get("/profile/feeds")
def feeds_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    return _page(request, session, user)


@router.post("/profile/feeds")
def feeds_change(
    request: Request, session: SessionDep, now: NowDep, user: PageUser, form: FormDep
) -> Response:
    """`action=new` makes a feed; `replace=<id>` revokes that one and makes a new one;
    `revoke=<id>` revokes it. A new feed's address is shown on this answer only."""
    revoke = form_text(form, "revoke") or form_text(form, "replace")
    try:
        if revoke:
            feeds.revoke_feed(session, user=user, feed_id=revoke)
    except NotFound:
        raise PageError(404, "No such feed", "It may have been revoked already.") from None
    if form_text(form, "revoke"):
        return redirect("/profile/feeds", notice="saved")
    _, token = feeds.create_feed(session, user=user, now=now)
    return _page(
        request, session, user, feeds.feed_url(runtime_of(request).settings.base_url, token)
    )
