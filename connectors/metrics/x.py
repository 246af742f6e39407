"""X: `GET /2/tweets?ids=...&tweet.fields=public_metrics`, up to 100 ids a call.

Source: X API v2 "Tweets lookup" and the Tweet object's `public_metrics`
(retweet_count, reply_count, like_count, quote_count, bookmark_count,
impression_count). Ids X cannot show come back in `errors` with the type
`https://api.twitter.com/2/problems/resource-not-found`: the post is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests
import tweepy

from connectors.base import Ambiguous
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count
from connectors.x import XConnector

BATCH = 100
NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"


async def read(connector: XConnector, ids: Sequence[str]) -> Readings:
    def lookup(client: tweepy.Client, user_auth: bool) -> requests.Response:
        answer: requests.Response = client.get_tweets(
            ids=list(ids), tweet_fields=["public_metrics"], user_auth=user_auth
        )
        return answer

    # _v2 maps tweepy's errors to the error kinds and renews an OAuth 2 token once.
    response = await connector._v2(lookup)
    try:
        answer = response.json()
    except ValueError:
        raise Ambiguous("X answered the lookup without JSON") from None
    return readings(answer, set(ids))


def readings(answer: Any, asked: set[str]) -> Readings:
    found: Readings = {}
    if not isinstance(answer, dict):
        return found
    for item in answer.get("errors") or []:
        if not isinstance(item, dict) or item.get("type") != NOT_FOUND:
            continue
        ident = item.get("resource_id") or item.get("value")
        if isinstance(ident, str) and ident in asked:
            found[ident] = GONE
    for tweet in answer.get("data") or []:
        if not isinstance(tweet, dict) or tweet.get("id") not in asked:
            continue
        metrics = tweet.get("public_metrics")
        metrics = metrics if isinstance(metrics, dict) else {}
        reposts = count(metrics.get("retweet_count"))
        quotes = count(metrics.get("quote_count"))
        found[str(tweet["id"])] = Figures(
            likes=count(metrics.get("like_count")),
            # A quote is a repost with words added: both spread the post.
            reposts=None if reposts is None else reposts + (quotes or 0),
            replies=count(metrics.get("reply_count")),
            views=count(metrics.get("impression_count")),
        )
    return found


READER = MetricsReader(batch=BATCH, read=read)
