from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from app.schemas import Flag, Input, Name, Output
from connectors.base import Audience
from connectors.registry import PLATFORMS

if TYPE_CHECKING:
    PlatformName = str
else:
    # The registry's slugs, so the API (and its OpenAPI enum) offers exactly the
    # platforms there are connector classes for.
    PlatformName = Literal[tuple(PLATFORMS)]


class ChannelCreate(Input):
    name: Name
    platform: PlatformName
    audience: Audience | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] = Field(default_factory=dict)
    receives_alerts: Flag = False
    # Unset: true for external channels, false for internal ones.
    requires_approval: Flag | None = None
    status: Literal["active", "disabled"] = "active"


class ChannelUpdate(Input):
    name: Name | None = None
    audience: Audience | None = None
    # Merged into the stored values, then checked against the platform's schema as a whole.
    config: dict[str, Any] | None = None
    credentials: dict[str, Any] | None = None
    receives_alerts: Flag | None = None
    requires_approval: Flag | None = None
    status: Literal["active", "disabled"] | None = None


class ChannelOut(Output):
    id: str
    name: str
    platform: str
    audience: str
    config: dict[str, Any]
    # Which credential fields are set; their values are never returned.
    credential_fields: list[str]
    receives_alerts: bool
    requires_approval: bool
    status: str
    status_reason: str | None
    created_at: datetime
    updated_at: datetime


class ChannelTestResult(Output):
    ok: bool
    detail: str
    status: str
