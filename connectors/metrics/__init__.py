"""Reading a platform's public figures (likes, reposts, replies, views) for posts
Cadence published, in batches as large as each platform allows.

A reader takes a connector (built as for publishing: the same credentials, HTTP client
and outbound policy) and at most `batch` external ids, and answers each id's Figures,
or GONE when the platform says the post no longer exists; an id missing from the
answer gets no reading this time. Whatever goes wrong for the whole call is raised as
the connector error kinds (RateLimited with its retry time, AuthExpired, Transient,
...), and the caller decides: a 429 postpones, never loses, a collection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from connectors.base import Connector


@dataclass(frozen=True)
class Figures:
    """None where the platform has no such figure."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    views: int | None = None


class Gone:
    """The platform says the post was deleted: collection stops for it."""

    def __repr__(self) -> str:
        return "GONE"


GONE: Final = Gone()
Readings = dict[str, Figures | Gone]
ReadFunction = Callable[[Any, Sequence[str]], Awaitable[Readings]]


@dataclass(frozen=True)
class MetricsReader:
    batch: int  # the most ids one call takes
    read: ReadFunction


def count(value: object) -> int | None:
    """A figure from an answer: a non-negative int, or a numeric string (YouTube's)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def reader_for(connector: type[Connector] | str) -> MetricsReader | None:
    """The reader of a platform, by connector class or slug; None if it has none."""
    from connectors.metrics.registry import READERS  # the readers import the connectors

    slug = connector if isinstance(connector, str) else connector.slug
    return READERS.get(slug)
