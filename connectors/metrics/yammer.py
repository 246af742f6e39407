"""Viva Engage (Yammer): `GET /api/v1/messages/{id}.json`, one message a call.

Source: Yammer REST API v1, Messages (`liked_by.count`); replies are the thread's
`stats.updates` less the first message where the answer carries `stats`, else None.
A deleted message answers 404: the post is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from connectors.base import Permanent
from connectors.http import json_body, send
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count
from connectors.yammer import YammerConnector

BATCH = 1  # one post a call: a rate limit keeps what was read before it


async def read(connector: YammerConnector, ids: Sequence[str]) -> Readings:
    found: Readings = {}
    for ident in ids:
        url = f"{connector.api_base}/api/v1/messages/{quote(ident, safe='')}.json"
        response = await send(
            connector.http, "GET", url, headers=connector._headers(), secrets=connector.secrets()
        )
        if response.status_code == 404:
            found[ident] = GONE
            continue
        connector._raise_for_answer(response)
        answer = json_body(response)
        if not isinstance(answer, dict):
            raise Permanent("Viva Engage answered without the message", code="unreadable")
        found[ident] = figures(answer)
    return found


def figures(answer: dict[str, Any]) -> Figures:
    liked = answer.get("liked_by")
    stats = answer.get("stats")
    updates = count(stats.get("updates")) if isinstance(stats, dict) else None
    return Figures(
        likes=count(liked.get("count")) if isinstance(liked, dict) else None,
        reposts=None,
        replies=max(updates - 1, 0) if updates is not None else None,
        views=None,
    )


READER = MetricsReader(batch=BATCH, read=read)
