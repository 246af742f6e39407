"""Mastodon: `GET /api/v1/statuses/{id}` on the channel's instance, one status a call.

Source: Mastodon API documentation, methods/statuses ("View a single status") and the
Status entity (`favourites_count`, `reblogs_count`, `replies_count`). Mastodon gives no
view count. A deleted status (or one the token can no longer see) answers 404 with
`{"error": "Record not found"}`: the post is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from connectors.base import Permanent
from connectors.http import json_body, send
from connectors.mastodon import MastodonConnector
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count

BATCH = 1  # one status a call: a rate limit keeps what was read before it


async def read(connector: MastodonConnector, ids: Sequence[str]) -> Readings:
    base = connector._checked_base()
    found: Readings = {}
    for ident in ids:
        response = await send(
            connector.http,
            "GET",
            f"{base}/api/v1/statuses/{quote(ident, safe='')}",
            headers=connector._headers(),
            secrets=connector.secrets(),
        )
        if response.status_code == 404:
            found[ident] = GONE
            continue
        connector._raise_for_answer(response)
        answer = json_body(response)
        if not isinstance(answer, dict):
            raise Permanent("Mastodon answered without the status", code="unreadable")
        found[ident] = figures(answer)
    return found


def figures(answer: dict[str, Any]) -> Figures:
    return Figures(
        likes=count(answer.get("favourites_count")),
        reposts=count(answer.get("reblogs_count")),
        replies=count(answer.get("replies_count")),
        views=None,
    )


READER = MetricsReader(batch=BATCH, read=read)
