from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas import Flag, Input, Output, UTCTime
from app.users.models import Role


class TokenCreate(Input):
    name: str = Field(default="", max_length=100)
    # Optional; must be in the future. Without it the token lasts until revoked.
    expires_at: UTCTime | None = None


class TokenCreated(Output):
    """The token itself is in this answer only: only its hash is stored."""

    id: str
    name: str
    token: str
    expires_at: datetime | None


class TokenOut(Output):
    id: str
    name: str
    user_id: str
    user_email: str
    role: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class UserOut(Output):
    id: str
    email: str
    name: str
    role: str
    active: bool
    timezone: str | None
    created_at: datetime


class UserUpdate(Input):
    # false: revokes the person's tokens and ends their sessions at once.
    active: Flag | None = None
    role: Role | None = None
