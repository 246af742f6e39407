"""YouTube: `GET /youtube/v3/videos?part=statistics&id=a,b,...`, up to 50 ids a call
(1 quota unit whatever the number).

Source: YouTube Data API v3, Videos: list, and the video resource's `statistics`
(viewCount, likeCount, commentCount as decimal strings; likeCount is absent when the
owner hides it). A video that no longer exists is simply left out of `items`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.http import json_body, send
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count
from connectors.youtube import YouTubeConnector

BATCH = 50


async def read(connector: YouTubeConnector, ids: Sequence[str]) -> Readings:
    url = f"{connector.api_base}/youtube/v3/videos"
    params = {"part": "id,statistics", "id": ",".join(ids), "maxResults": str(len(ids))}
    refreshed = False
    while True:
        token = await connector._token()
        response = await send(
            connector.http,
            "GET",
            url,
            params=params,
            headers=connector._headers(token, {"Accept": "application/json"}),
            secrets=connector.secrets(),
        )
        if response.status_code == 401 and not refreshed:
            await connector._refresh()
            refreshed = True
            continue
        break
    if not response.is_success:
        raise connector._api_error(response)
    return readings(json_body(response), list(ids))


def readings(answer: Any, asked: list[str]) -> Readings:
    if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
        return {}
    found: Readings = {ident: GONE for ident in asked}
    for item in answer["items"]:
        if not isinstance(item, dict) or item.get("id") not in found:
            continue
        stats = item.get("statistics")
        stats = stats if isinstance(stats, dict) else {}
        found[item["id"]] = Figures(
            likes=count(stats.get("likeCount")),
            reposts=None,
            replies=count(stats.get("commentCount")),
            views=count(stats.get("viewCount")),
        )
    return found


READER = MetricsReader(batch=BATCH, read=read)
