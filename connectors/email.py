"""E-mail over SMTP: schemas and validation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from connectors.base import PlatformConfig, PlatformCredentials, Problem, PublishRequest
from connectors.rules import text_required

EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]


class EmailConfig(PlatformConfig):
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    from_address: EmailAddress
    to_addresses: list[EmailAddress] = Field(min_length=1)


class EmailCredentials(PlatformCredentials):
    username: str | None = None
    password: str | None = None


def validate(request: PublishRequest) -> list[Problem]:
    return text_required(request)
