"""Instagram (professional accounts): `GET /{version}/{ig-media-id}?fields=like_count,
comments_count`, one media a call.

Source: Instagram Graph API reference, IG Media (`like_count`, `comments_count`; a
`like_count` is left out when the owner hid likes, so it is None then). Reposts and
views are not on the media node (views are IG Media Insights, another permission):
None. A deleted media answers error 100, subcode 33 ("does not exist") or HTTP 404:
gone. A rate limit (Graph codes 4, 17, 32, 613, or HTTP 429) raises RateLimited and
postpones the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import Permanent
from connectors.instagram import InstagramConnector
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count

BATCH = 1  # one media a call: a rate limit keeps what was read before it
FIELDS = "like_count,comments_count"
MISSING_SUBCODE = 33


async def read(connector: InstagramConnector, ids: Sequence[str]) -> Readings:
    found: Readings = {}
    for ident in ids:
        try:
            answer = await connector._call("GET", connector._url(ident), {"fields": FIELDS})
        except Permanent as exc:
            if exc.code == "http_404" or f"subcode {MISSING_SUBCODE}" in exc.message:
                found[ident] = GONE
                continue
            raise
        found[ident] = figures(answer)
    return found


def figures(answer: dict[str, Any]) -> Figures:
    return Figures(
        likes=count(answer.get("like_count")),
        reposts=None,
        replies=count(answer.get("comments_count")),
        views=None,
    )


READER = MetricsReader(batch=BATCH, read=read)
