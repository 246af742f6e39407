"""Bluesky: `GET /xrpc/app.bsky.feed.getPosts?uris=...`, up to 25 post uris a call,
through the channel's PDS with its session (the PDS passes the call to the AppView).

Source: Bluesky HTTP API reference, app.bsky.feed.getPosts ("Gets post views for a
specified list of posts (by AT-URI)", `uris` at most 25) and its PostView
(`likeCount`, `repostCount`, `replyCount`, `quoteCount`). A post that no longer exists
is left out of `posts`: the post is gone. Bluesky gives no view count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.bluesky import BlueskyConnector, XrpcError
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count

BATCH = 25


async def read(connector: BlueskyConnector, ids: Sequence[str]) -> Readings:
    try:
        answer = await connector._authed(
            "GET", "app.bsky.feed.getPosts", params=[("uris", uri) for uri in ids]
        )
    except XrpcError as exc:
        raise connector._error(exc) from None
    return readings(answer, list(ids))


def readings(answer: Any, asked: list[str]) -> Readings:
    if not isinstance(answer, dict) or not isinstance(answer.get("posts"), list):
        return {}
    found: Readings = {uri: GONE for uri in asked}
    for view in answer["posts"]:
        if not isinstance(view, dict) or view.get("uri") not in found:
            continue
        reposts = count(view.get("repostCount"))
        quotes = count(view.get("quoteCount"))
        found[view["uri"]] = Figures(
            likes=count(view.get("likeCount")),
            # A quote is a repost with words added, as X's quote_count is counted.
            reposts=None if reposts is None else reposts + (quotes or 0),
            replies=count(view.get("replyCount")),
            views=None,
        )
    return found


READER = MetricsReader(batch=BATCH, read=read)
