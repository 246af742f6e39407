from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdColumn, UTCDateTime, new_id


class ChannelStatus(StrEnum):
    active = "active"
    needs_reconnect = "needs_reconnect"
    disabled = "disabled"


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(10))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Fernet token of the JSON credentials; see app.crypto. Never serialised.
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    receives_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    # Posts a contributor (or, with CADENCE_APPROVAL_FOR_EDITORS, anyone) schedules here
    # wait for an editor's approval. New channels: true when external (app/team/approval).
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(20), default=ChannelStatus.active)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


def internal_only_problem(channel: Channel, *, internal_only: bool) -> str | None:
    """Why an internal-only post cannot go to `channel`, or None: one rule for the posts
    service (which refuses the post) and the compose page (which shows it as typed)."""
    if internal_only and channel.audience != "internal":
        return f"channel {channel.name!r} is external and the post is internal_only"
    return None
