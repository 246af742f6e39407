"""Per-network versions: a post's own text, title or link for one of its channels.

A post keeps its main text, title and link; `versions` maps a channel id to the
fields that channel publishes instead (a field left out, or null, is the main one).
Each channel is validated, counted and published with its effective fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.base import PublishRequest

FIELDS = ("text", "title", "link")
# channel id -> {field: value}: only the fields a channel changes are kept.
Versions = dict[str, dict[str, str]]


def cleaned(raw: Mapping[str, Any] | None) -> Versions:
    """Versions as stored: fields that are null or absent dropped, empty versions too."""
    out: Versions = {}
    for channel_id, version in (raw or {}).items():
        if isinstance(version, Mapping):
            kept = {k: v for k, v in version.items() if k in FIELDS and v is not None}
        else:  # a pydantic model
            kept = {k: getattr(version, k) for k in FIELDS if getattr(version, k) is not None}
        if kept:
            out[channel_id] = kept
        else:
            out.setdefault(channel_id, {})
    return {k: v for k, v in out.items() if v}


def strays(versions: Mapping[str, Any], channel_ids: Iterable[str]) -> list[str]:
    """Channels that have a version but are not among the post's channels."""
    chosen = set(channel_ids)
    return [channel_id for channel_id in versions if channel_id not in chosen]


def kept_for(versions: Versions, channel_ids: Iterable[str]) -> Versions:
    """The versions of the channels still chosen (a channel taken off loses its own)."""
    chosen = set(channel_ids)
    return {k: v for k, v in versions.items() if k in chosen}


def apply(request: PublishRequest, version: Mapping[str, str] | None) -> PublishRequest:
    """The request with a channel's own fields in place of the main ones."""
    if not version:
        return request
    return dataclasses.replace(
        request,
        text=version.get("text", request.text),
        title=version.get("title", request.title),
        link=version.get("link", request.link),
    )
