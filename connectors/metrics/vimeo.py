"""Vimeo: `GET /videos/{id}?fields=stats.plays,metadata.connections.likes.total,
metadata.connections.comments.total`, one video a call.

Source: Vimeo API reference, Videos ("Get a specific video") and the video object:
`stats.plays` (null when the owner hides it), `metadata.connections.likes.total` and
`metadata.connections.comments.total`; `fields` trims the answer to these. A deleted
video answers 404: the post is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from connectors.base import Permanent
from connectors.http import json_body, send
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count
from connectors.vimeo import VimeoConnector

BATCH = 1  # one video a call: a rate limit keeps what was read before it
FIELDS = "stats.plays,metadata.connections.likes.total,metadata.connections.comments.total"


async def read(connector: VimeoConnector, ids: Sequence[str]) -> Readings:
    found: Readings = {}
    for ident in ids:
        response = await send(
            connector.http,
            "GET",
            f"{connector.base}/videos/{quote(ident, safe='')}",
            params={"fields": FIELDS},
            headers=connector._headers(),
            secrets=connector.secrets(),
        )
        if response.status_code == 404:
            found[ident] = GONE
            continue
        connector._raise_for_answer(response)
        answer = json_body(response)
        if not isinstance(answer, dict):
            raise Permanent("Vimeo answered without the video", code="unreadable")
        found[ident] = figures(answer)
    return found


def _total(connections: object, name: str) -> int | None:
    entry = connections.get(name) if isinstance(connections, dict) else None
    return count(entry.get("total")) if isinstance(entry, dict) else None


def figures(answer: dict[str, Any]) -> Figures:
    stats = answer.get("stats")
    metadata = answer.get("metadata")
    connections = metadata.get("connections") if isinstance(metadata, dict) else None
    return Figures(
        likes=_total(connections, "likes"),
        reposts=None,
        replies=_total(connections, "comments"),
        views=count(stats.get("plays")) if isinstance(stats, dict) else None,
    )


READER = MetricsReader(batch=BATCH, read=read)
