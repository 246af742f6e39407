"""Flickr: `flickr.photos.getInfo` (`views`, `comments`) and `flickr.photos.getFavorites`
(`total`, asked with per_page=1), signed GETs in JSON, two calls a photo.

Source: Flickr API reference, flickr.photos.getInfo and flickr.photos.getFavorites;
both answer error 1 "Photo not found" for a photo that no longer exists: it is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import Ambiguous
from connectors.flickr import FlickrConnector
from connectors.http import USER_AGENT, check_common_status, json_body, send
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count

BATCH = 1  # one post a call: a rate limit keeps what was read before it
PHOTO_NOT_FOUND = 1


async def _call(
    connector: FlickrConnector, method: str, photo_id: str, **extra: str
) -> dict[str, Any] | None:
    """The answer's `photo` object; None when Flickr says the photo is not found."""
    params = [
        ("method", method),
        ("photo_id", photo_id),
        *extra.items(),
        ("format", "json"),
        ("nojsoncallback", "1"),
    ]
    url = connector.rest_url
    headers = {
        "Authorization": connector._authorization("GET", url, params),
        "User-Agent": USER_AGENT,
    }
    response = await send(
        connector.http, "GET", url, params=params, headers=headers, secrets=connector.secrets()
    )
    connector._raise_for_oauth_problem(response)
    check_common_status(
        response, platform=connector.short_label, now=connector.now(), secrets=connector.secrets()
    )
    answer = json_body(response)
    if not isinstance(answer, dict):
        raise Ambiguous(f"Flickr answered {method} without JSON")
    if answer.get("stat") != "ok":
        code = answer.get("code")
        if code == PHOTO_NOT_FOUND:
            return None
        raise connector._flickr_error(
            code if isinstance(code, int) else None, str(answer.get("message") or "")
        )
    photo = answer.get("photo")
    return photo if isinstance(photo, dict) else {}


async def read(connector: FlickrConnector, ids: Sequence[str]) -> Readings:
    found: Readings = {}
    for ident in ids:
        info = await _call(connector, "flickr.photos.getInfo", ident)
        faves = await _call(connector, "flickr.photos.getFavorites", ident, per_page="1")
        if info is None or faves is None:
            found[ident] = GONE
            continue
        comments = info.get("comments")
        found[ident] = Figures(
            likes=count(faves.get("total")),
            reposts=None,
            replies=count(comments.get("_content")) if isinstance(comments, dict) else None,
            views=count(info.get("views")),
        )
    return found


READER = MetricsReader(batch=BATCH, read=read)
