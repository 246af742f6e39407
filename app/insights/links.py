"""Click tracking: a post's links go out as CADENCE_BASE_URL/l/{code} redirects that
count clicks per delivery.

When any objective of a post has `track_clicks`, each delivery's request is rewritten
at claim time (publishing.claims calls `track_links` once per claimed batch): its
`link`, and every URL in its text (found by connectors.x_text's linear scanner), are
replaced by a short code stored with the URL it stands for. The rewrite takes the URL
as it is at that moment, so anything that decorated it before (UTM parameters) is
what the reader is sent to. A retried delivery reuses its codes, so every attempt
sends the same text.

Only URLs stored here are ever redirected to: an unknown code is a 404, never a
redirect to something a visitor chose (no open redirect).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.insights.models import TrackedLink
from app.objectives.models import Objective
from app.posts.models import post_objectives
from connectors.base import PublishRequest
from connectors.x_text import extract_urls

if TYPE_CHECKING:
    from app.publishing.claims import Job

ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 10  # 62^10: not guessable by walking codes
REDIRECT_PATH = "/l/"
# User agents longer than this are not matched against the crawler list (bounded cost);
# a real browser's is a few hundred characters.
MAX_USER_AGENT = 512


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def absolute(url: str) -> str:
    """A URL found without its protocol ("example.org/x") as a browser would open it."""
    lowered = url[:8].lower()
    return url if lowered.startswith(("http://", "https://")) else "https://" + url


def urls_in(request: PublishRequest) -> list[str]:
    """The URLs a request carries, link first, each once, as they appear."""
    found = [request.link] if request.link else []
    found += [entity.url for entity in extract_urls(request.text)]
    return list(dict.fromkeys(found))


def rewrite(request: PublishRequest, short: Callable[[str], str]) -> PublishRequest:
    """The request with its link and each URL in its text replaced by `short(url)`."""
    text = request.text
    if text:
        pieces: list[str] = []
        cursor = 0
        for entity in extract_urls(text):
            # The scanner's offsets are in the normalised text: find it from the cursor.
            at = text.find(entity.url, cursor)
            if at < 0:
                continue
            pieces += [text[cursor:at], short(entity.url)]
            cursor = at + len(entity.url)
        text = "".join([*pieces, text[cursor:]])
    link = short(request.link) if request.link else None
    return replace(request, text=text, link=link)


def tracking_posts(session: Session, post_ids: Iterable[str]) -> set[str]:
    """Which of these posts have an objective that tracks clicks."""
    ids = list(set(post_ids))
    if not ids:
        return set()
    return set(
        session.scalars(
            select(post_objectives.c.post_id)
            .join(Objective, Objective.id == post_objectives.c.objective_id)
            .where(post_objectives.c.post_id.in_(ids), Objective.track_clicks.is_(True))
        )
    )


def track_links(
    session: Session, jobs: Sequence[Job], *, base_url: str, now: datetime
) -> list[Job]:
    """`jobs` with the links of click-tracking posts replaced, their codes stored."""
    tracking = tracking_posts(session, (job.request.post_id for job in jobs))
    if not tracking:
        return list(jobs)
    chosen = [job for job in jobs if job.request.post_id in tracking]
    codes: dict[tuple[str, str], str] = {
        (row.delivery_id, row.url): row.code
        for row in session.execute(
            select(TrackedLink.delivery_id, TrackedLink.url, TrackedLink.code).where(
                TrackedLink.delivery_id.in_([job.delivery_id for job in chosen])
            )
        )
    }
    prefix = base_url.rstrip("/") + REDIRECT_PATH
    rewritten: dict[str, PublishRequest] = {}
    for job in chosen:

        def short(url: str, delivery_id: str = job.delivery_id) -> str:
            target = absolute(url)
            key = (delivery_id, target)
            if key not in codes:
                codes[key] = new_code()
                session.add(
                    TrackedLink(
                        code=codes[key], delivery_id=delivery_id, url=target, created_at=now
                    )
                )
            return prefix + codes[key]

        rewritten[job.delivery_id] = rewrite(job.request, short)
    session.flush()
    return [
        replace(job, request=rewritten[job.delivery_id]) if job.delivery_id in rewritten else job
        for job in jobs
    ]


def is_bot(user_agent: str | None) -> bool:
    """A crawler, by the CrawlerDetect list (link unfurlers of chat apps included).
    No user agent, or one too long to be a browser's, counts as a bot."""
    if not user_agent or len(user_agent) > MAX_USER_AGENT:
        return True
    return bool(_detector().is_crawler(user_agent))


@cache
def _detector() -> Any:
    """CrawlerDetect compiles its list once; `is_crawler` answers from its argument
    alone (the `matches` it also keeps are not read here), so threads may share it."""
    from crawlerdetect import CrawlerDetect

    return CrawlerDetect()


def follow(session: Session, code: str, *, user_agent: str | None) -> str | None:
    """Count one click on `code` (bots apart) and answer its URL; None: unknown code."""
    if len(code) != CODE_LENGTH or not all(c in ALPHABET for c in code):
        return None
    column = TrackedLink.bot_clicks if is_bot(user_agent) else TrackedLink.clicks
    # One UPDATE: concurrent clicks add up without a lost update.
    url = session.scalar(
        update(TrackedLink)
        .where(TrackedLink.code == code)
        .values({column: column + 1})
        .returning(TrackedLink.url)
    )
    return url
