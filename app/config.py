"""Settings from CADENCE_* environment variables or a .env file."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CADENCE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./cadence.db"
    timezone: str = "UTC"
    media_dir: Path = Path("./media")
    # When unset, a key is generated into key_file (mode 0600) on first use.
    secret_key: str | None = None
    key_file: Path = Path("./cadence.key")
    retired_secret_keys: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # DEBUG also lets third-party libraries (HTTP, SQL, APScheduler) log below WARNING.
    log_level: str = "INFO"
    # auto: plain lines on a terminal, JSON lines otherwise.
    log_format: Literal["auto", "text", "json"] = "auto"
    # Public address of the web pages, used for links in alerts and webhook payloads.
    base_url: str = "http://127.0.0.1:8000"

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=512 * 1_048_576, ge=1024)

    # Publishing
    max_attempts: int = Field(default=5, ge=1)
    max_lateness_seconds: int = Field(default=6 * 3600, ge=1)
    lease_seconds: int = Field(default=120, ge=2)
    dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    dispatch_batch_size: int = Field(default=200, ge=1)
    publish_concurrency: int = Field(default=32, ge=1)
    per_channel_concurrency: int = Field(default=1, ge=1)
    publish_timeout_seconds: float = Field(default=30.0, gt=0)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    shutdown_grace_seconds: float = Field(default=30.0, ge=0)

    # Coverage
    coverage_lookahead_days: int = Field(default=7, ge=0, le=366)
    coverage_interval_seconds: int = Field(default=600, ge=5)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        # OSError: a directory of the zone database ("Europe") is not a zone.
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; one of {', '.join(LOG_LEVELS)}")
        return level

    @property
    def max_lateness(self) -> timedelta:
        return timedelta(seconds=self.max_lateness_seconds)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def secret_keys(self) -> list[str]:
        """Current key first, then retired ones still accepted for decryption.

        From CADENCE_SECRET_KEY when set (retired keys in CADENCE_RETIRED_SECRET_KEYS,
        comma-separated), else from the key file, which is created on first use.
        """
        if self.secret_key:
            return [self.secret_key, *[k for k in self.retired_secret_keys.split(",") if k]]
        if self.key_file.exists():
            keys = [line.strip() for line in self.key_file.read_text().splitlines()]
            return [k for k in keys if k]
        key = secrets.token_urlsafe(32)
        write_key_file(self.key_file, key)
        return [key]


def write_key_file(path: Path, key: str, *, previous: list[str] | None = None) -> None:
    """Write the key file with mode 0600; older keys follow on later lines for rotation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join([key, *(previous or [])]) + "\n")
    os.replace(tmp, path)


@lru_cache
def get_settings() -> Settings:
    return Settings()
