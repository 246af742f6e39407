"""LinkedIn: `GET /rest/socialActions/{post urn}` (the URN URL-encoded), one post a call,
with the versioned headers of every LinkedIn call.

Source: LinkedIn Community Management API, "Network Update Social Actions"
(learn.microsoft.com/linkedin/marketing/community-management/shares/
network-update-social-actions): `likesSummary.totalLikes` and
`commentsSummary.aggregatedTotalComments` (first-level comments and their replies).
Reading it needs `r_organization_social`; LinkedIn gives organisation posts no
public repost or view count here. A deleted post answers 404: the post is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from connectors.base import Permanent
from connectors.http import json_body, send
from connectors.linkedin import LinkedInConnector
from connectors.metrics import GONE, Figures, MetricsReader, Readings, count

BATCH = 1  # one post a call: a rate limit keeps what was read before it


async def read(connector: LinkedInConnector, ids: Sequence[str]) -> Readings:
    found: Readings = {}
    for urn in ids:
        url = f"{connector.base}/rest/socialActions/{quote(urn, safe='')}"
        response = await send(
            connector.http, "GET", url, headers=connector._headers(), secrets=connector.secrets()
        )
        if response.status_code == 404:
            found[urn] = GONE
            continue
        connector._raise_for_answer(response)
        answer = json_body(response)
        if not isinstance(answer, dict):
            raise Permanent("LinkedIn answered without the social actions", code="unreadable")
        found[urn] = figures(answer)
    return found


def figures(answer: dict[str, Any]) -> Figures:
    likes = answer.get("likesSummary")
    comments = answer.get("commentsSummary")
    return Figures(
        likes=count(likes.get("totalLikes")) if isinstance(likes, dict) else None,
        reposts=None,
        replies=count(comments.get("aggregatedTotalComments"))
        if isinstance(comments, dict)
        else None,
        views=None,
    )


READER = MetricsReader(batch=BATCH, read=read)
