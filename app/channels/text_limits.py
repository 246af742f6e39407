"""A channel's own text limit, as its platform reports it (a Mastodon instance's
`configuration.statuses.max_characters`): the channel's checks (the Test button and the
token keeper's daily check) store it in the channel's config, where validation and the
compose counter read it (connectors.registry.channel_platform)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.channels.models import Channel
from connectors.registry import Platform

FIELD = "max_characters"


def reported_limit(platform: Platform, account: dict[str, Any]) -> int | None:
    """The limit a successful check reported, if the platform's config keeps one."""
    limit = account.get(FIELD)
    if FIELD not in platform.config_model.model_fields:
        return None
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit <= 1_000_000:
        return limit
    return None


def store_text_limit(session: Session, *, channel_id: str, limit: int, now: datetime) -> None:
    channel = session.get(Channel, channel_id, with_for_update=True)
    if channel is None or channel.config.get(FIELD) == limit:
        return
    channel.config = {**channel.config, FIELD: limit}  # a new dict: the JSON column sees it
    channel.updated_at = now
