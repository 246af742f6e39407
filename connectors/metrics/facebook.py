"""Facebook Pages: `GET /{version}/{post-id}?fields=reactions.summary(total_count)
.limit(0),comments.summary(total_count).limit(0),shares`, one post a call.

Source: Graph API reference, Page Post (`shares.count`) and its `reactions` and
`comments` edges (`summary.total_count`). Asking several ids at once (`?ids=`) fails
the whole call when one post is gone, so each post is asked alone. A deleted post
answers error 100, subcode 33 ("does not exist") or HTTP 404: the post is gone.
Views are Page Insights (`post_impressions`), which need another permission: None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from connectors.base import Permanent
from connectors.facebook import GRAPH_BASE, FacebookConnector
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count

BATCH = 1  # one post a call: a rate limit keeps what was read before it
FIELDS = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
MISSING_SUBCODE = 33


async def read(connector: FacebookConnector, ids: Sequence[str]) -> Readings:
    found: Readings = {}
    base = (connector.config.api_base or GRAPH_BASE).rstrip("/")
    version = quote(connector.config.api_version.strip("/"), safe="")
    for ident in ids:
        url = f"{base}/{version}/{quote(ident, safe='')}"
        try:
            answer = await connector._call("GET", url, params={"fields": FIELDS})
        except Permanent as exc:
            if exc.code == "http_404" or f"subcode {MISSING_SUBCODE}" in exc.message:
                found[ident] = GONE
                continue
            raise
        found[ident] = figures(answer)
    return found


def _total(edge: Any) -> int | None:
    summary = edge.get("summary") if isinstance(edge, dict) else None
    return count(summary.get("total_count")) if isinstance(summary, dict) else None


def figures(answer: dict[str, Any]) -> Figures:
    shares = answer.get("shares")
    return Figures(
        likes=_total(answer.get("reactions")),
        # No `shares` field at all: nobody shared it yet.
        reposts=count(shares.get("count")) if isinstance(shares, dict) else 0,
        replies=_total(answer.get("comments")),
        views=None,
    )


READER = MetricsReader(batch=BATCH, read=read)
