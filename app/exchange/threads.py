"""X threads and Facebook first comments: the parts a delivery publishes after its post.

`"thread": ["second part", ...]` is published on X as replies, each to the part before;
`"first_comment"` on Facebook as a comment on the new post. A platform without threads
(or comments) refuses them: 422. Each thread part is checked by X's own rules.

Each part, the post included, is recorded in `delivery_parts` the moment the platform
answers, in a transaction of its own (`record_part`). When a later part fails, the
delivery ends `failed` or `unknown` as any delivery does, and lists the parts that are
out; a retry hands them to the connector (`PublishRequest.done_parts`), which goes on
from the first part not out and never sends one again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldProblem
from app.exchange.models import DeliveryPart
from app.posts.rules import PlatformRules
from connectors.base import PartDone, PartRef, PublishRequest
from connectors.registry import get_platform

# The platforms that publish each kind of part.
THREADS = frozenset({"x"})
FIRST_COMMENTS = frozenset({"facebook"})
MAX_PARTS = 25


def problems(
    *,
    thread: Sequence[str],
    first_comment: str | None,
    channels: Sequence[Any],
    post_id: str,
    rules: PlatformRules | None,
) -> list[FieldProblem]:
    """A thread or first comment a chosen channel cannot publish, and (with `rules`,
    for a scheduled post) each thread part X's rules refuse."""
    found: list[FieldProblem] = []
    for channel in channels:
        label = f"{channel.name} ({get_platform(channel.platform).label})"
        if thread and channel.platform not in THREADS:
            found.append(
                FieldProblem(
                    ("body", "thread"),
                    f"{label} has no threads; threads go to X channels only",
                    channel_id=channel.id,
                )
            )
        if first_comment and channel.platform not in FIRST_COMMENTS:
            found.append(
                FieldProblem(
                    ("body", "first_comment"),
                    f"{label} takes no first comment; first comments go to Facebook Pages only",
                    channel_id=channel.id,
                )
            )
    if found or rules is None:
        return found
    for channel in channels:
        if channel.platform in THREADS:
            found += _part_problems(thread, channel, post_id, rules)
    return found


def _part_problems(
    thread: Sequence[str], channel: Any, post_id: str, rules: PlatformRules
) -> list[FieldProblem]:
    found = []
    for index, part in enumerate(thread):
        answers = rules.problems(
            channel.platform,
            ("thread part", part),
            partial(PublishRequest, delivery_id="", post_id=post_id, text=part),
        )
        found += [
            FieldProblem(
                ("body", "thread", index),
                f"{channel.name} ({get_platform(channel.platform).label}): {p.message}",
                type="platform_rule",
                channel_id=channel.id,
            )
            for p in answers
        ]
    return found


def done_parts(session: Session, delivery_ids: Sequence[str]) -> dict[str, tuple[PartRef, ...]]:
    """delivery id -> the parts of it that are out, for the deliveries that have any."""
    if not delivery_ids:
        return {}
    found: dict[str, list[PartRef]] = {}
    rows = session.scalars(
        select(DeliveryPart)
        .where(DeliveryPart.delivery_id.in_(delivery_ids))
        .order_by(DeliveryPart.delivery_id, DeliveryPart.index)
    )
    for row in rows:
        found.setdefault(row.delivery_id, []).append(
            PartRef(row.index, row.external_id, row.permalink)
        )
    return {k: tuple(v) for k, v in found.items()}


def record_part(session: Session, *, delivery_id: str, part: PartRef, now: datetime) -> None:
    """Keep a part that is out (once: the same part again changes nothing)."""
    if session.get(DeliveryPart, (delivery_id, part.index)) is None:
        session.add(
            DeliveryPart(
                delivery_id=delivery_id,
                index=part.index,
                external_id=part.external_id[:200],
                permalink=part.permalink,
                published_at=now,
            )
        )


def recorder(
    run: Callable[..., Awaitable[None]], delivery_id: str, now: Callable[[], datetime]
) -> PartDone:
    """The `on_part` of a delivery's request: each part written as soon as it is out.
    `run(fn, **kwargs)` runs `fn(session, **kwargs)` in a transaction (the dispatcher's)."""

    async def on_part(part: PartRef) -> None:
        await run(record_part, delivery_id=delivery_id, part=part, now=now())

    return on_part
