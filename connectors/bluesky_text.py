"""Bluesky's rich text: finding links, mentions and tags in a post's text, at UTF-8
byte offsets (docs.bsky.app/docs/advanced-guides/post-richtext; the lexicon
`app.bsky.richtext.facet`: `index.byteStart` inclusive, `index.byteEnd` exclusive,
counting bytes of the UTF-8 text).

One pass over the text, token by token (a token is a run without white space), so the
cost is linear in the text whatever it holds; no user-supplied pattern is ever used.
An entity starts a token, after any opening brackets or quotes, and loses trailing
punctuation, as Bluesky's own app detects them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import grapheme

_TOKENS = re.compile(r"(\s+)")  # a fixed pattern: split on white space, keep it
_OPENING = "([{\"'"
_TRAILING = ".,:;!?'\")]}"
_HANDLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
MAX_TAG_GRAPHEMES = 64

Kind = Literal["link", "mention", "tag"]


@dataclass(frozen=True)
class Entity:
    kind: Kind
    value: str  # the URL, the handle (without "@") or the tag (without "#")
    byte_start: int
    byte_end: int


def _entity(token: str) -> tuple[Kind, int, str] | None:
    """(kind, where it starts in `token`, its text) for the entity a token holds."""
    start = len(token) - len(token.lstrip(_OPENING))
    body = token[start:].rstrip(_TRAILING)
    lowered = body.lower()
    if lowered.startswith(("https://", "http://")) and "." in body:
        return "link", start, body
    if body.startswith("@") and _is_handle(body[1:]):
        return "mention", start, body
    if body.startswith("#") and _is_tag(body[1:]):
        return "tag", start, body
    return None


def _is_handle(text: str) -> bool:
    """A domain-like handle: labels of letters, digits and hyphens, two or more."""
    if "." not in text or not all(c in _HANDLE_CHARS for c in text):
        return False
    labels = text.split(".")
    return all(labels) and labels[-1][0].isalpha()


def _is_tag(text: str) -> bool:
    return (
        bool(text)
        and not text.isdigit()
        and "#" not in text
        and grapheme.length(text, MAX_TAG_GRAPHEMES + 1) <= MAX_TAG_GRAPHEMES
    )


def entities(text: str) -> list[Entity]:
    """The links, mentions and tags of `text`, in order, at UTF-8 byte offsets."""
    found: list[Entity] = []
    offset = 0  # bytes before the current part
    for index, part in enumerate(_TOKENS.split(text)):
        size = len(part.encode("utf-8"))
        if index % 2 == 0 and part:
            hit = _entity(part)
            if hit is not None:
                kind, start, body = hit
                byte_start = offset + len(part[:start].encode("utf-8"))
                value = body if kind == "link" else body[1:]
                found.append(Entity(kind, value, byte_start, byte_start + len(body.encode())))
        offset += size
    return found


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters, Unicode UAX #29)."""
    return int(grapheme.length(text))
