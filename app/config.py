"""Settings from CADENCE_* environment variables or a .env file."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.outbound import OutboundPolicy, parse_allow_list

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CADENCE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./cadence.db"
    timezone: str = "UTC"
    media_dir: Path = Path("./media")
    # When unset, a key is generated into key_file (mode 0600) on first use, unless
    # channels already hold credentials encrypted with a key (see app.keys).
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

    # Outbound connections: host names and CIDR ranges allowed although not public
    # (comma-separated), e.g. "10.0.0.5,mattermost.corp.example,192.168.10.0/24".
    outbound_allow: str = ""
    # Sessions, proxies, metrics
    session_idle_minutes: int = Field(default=720, ge=1)
    # Addresses (IPs or CIDR networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto headers are believed: the reverse proxy's.
    forwarded_allow_ips: str = "127.0.0.1,::1"
    # When set, GET /metrics needs "Authorization: Bearer <this>".
    metrics_token: str | None = None

    # Coverage
    coverage_lookahead_days: int = Field(default=7, ge=0, le=366)
    coverage_interval_seconds: int = Field(default=600, ge=5)

    # Connecting accounts (OAuth flows) and the token life cycle
    # Per platform: the app's client id and secret from the platform's developer
    # console (Flickr: its key and secret); unset means "not set up" on the Channels
    # page. `<P>_BASE_URL` replaces the scheme and host of every URL of the platform
    # (authorization page, token endpoint, API, upload) and becomes the api_base of
    # the channels its flow creates: a proxy, an on-premises gateway or a test fake.
    x_client_id: str | None = None
    x_client_secret: str | None = None
    x_base_url: str | None = None
    facebook_client_id: str | None = None
    facebook_client_secret: str | None = None
    facebook_base_url: str | None = None
    youtube_client_id: str | None = None
    youtube_client_secret: str | None = None
    youtube_base_url: str | None = None
    flickr_client_id: str | None = None
    flickr_client_secret: str | None = None
    flickr_base_url: str | None = None
    yammer_client_id: str | None = None
    yammer_client_secret: str | None = None
    yammer_base_url: str | None = None
    # The Microsoft Entra tenant (id or domain) whose users may connect Viva Engage.
    yammer_tenant: str = "organizations"
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_base_url: str | None = None
    # The six newer platforms (issue 16). Instagram has its own app settings; they may
    # hold the same Meta app as Facebook's (Facebook Login with Instagram's scopes).
    linkedin_client_id: str | None = None
    linkedin_client_secret: str | None = None
    linkedin_base_url: str | None = None
    vimeo_client_id: str | None = None
    vimeo_client_secret: str | None = None
    vimeo_base_url: str | None = None
    sharepoint_client_id: str | None = None
    sharepoint_client_secret: str | None = None
    sharepoint_base_url: str | None = None
    # The Entra tenant for SharePoint; unset: the Viva Engage one (CADENCE_YAMMER_TENANT).
    sharepoint_tenant: str | None = None
    instagram_client_id: str | None = None
    instagram_client_secret: str | None = None
    instagram_base_url: str | None = None
    # How long due posts of a channel that needs reconnecting wait before they fail.
    reconnect_grace_hours: int = Field(default=24, ge=0, le=24 * 30)
    # How often the token keeper refreshes tokens about to expire and warns of ends.
    token_check_interval_seconds: int = Field(default=300, ge=5)

    # Team workflow: contributors, approval, guardrails, champions
    # Editors' and admins' own posts to channels requiring approval wait for another's.
    approval_for_editors: bool = False
    # How long before its time a post still pending approval raises approval_overdue.
    approval_warn_minutes: int = Field(default=120, ge=0, le=10_080)
    # Mondays at this local time (CADENCE_TIMEZONE), last week's Twophy winner is announced.
    twophy_at: str = Field(default="09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    # Planning: recurring posts, slots, the evergreen library, pause, grouped alerts
    # Occurrences of a recurring post exist this many days ahead (the first always).
    recurrence_horizon_days: int = Field(default=90, ge=1, le=3660)
    # How often each process makes the occurrences that came within the horizon.
    recurrence_interval_seconds: int = Field(default=3600, ge=5)
    # A library post is not copied to a channel again within this many days.
    evergreen_cooldown_days: int = Field(default=14, ge=0, le=3660)
    # Local times (CADENCE_TIMEZONE, "HH:MM"): today's uncovered objectives are urgent
    # from urgent_after; days further ahead go in one daily summary at summary_at.
    urgent_after: str = "12:00"
    summary_at: str = "09:00"

    # Exchange: spreadsheets, calendar feeds, versions, threads, tracked links
    # A spreadsheet of posts may be larger than a JSON body (5,000 rows is ~1-2 MiB).
    max_import_bytes: int = Field(default=16 * 1_048_576, ge=1024)

    # Insights: engagement figures, click tracking, the weekly digest
    # How often the due engagement readings are collected (1 h ... 30 d after publishing).
    metrics_interval_seconds: int = Field(default=900, ge=5)
    # When the weekly digest goes out: Mondays at this local time (CADENCE_TIMEZONE).
    digest_at: str = "09:00"

    @field_validator("digest_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, sep, minutes = value.strip().partition(":")
        if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError("must be a time of day as HH:MM, e.g. 09:00")
        if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
            raise ValueError("must be a time of day as HH:MM, e.g. 09:00")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        # OSError: a directory of the zone database ("Europe") is not a zone.
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("urgent_after", "summary_at")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        hour, sep, minute = value.strip().partition(":")
        if not (sep and hour.isdigit() and minute.isdigit() and len(minute) == 2):
            raise ValueError(f"{value!r} is not a time of day as HH:MM")
        if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
            raise ValueError(f"{value!r} is not a time from 00:00 to 23:59")
        return f"{int(hour):02d}:{minute}"

    @field_validator("outbound_allow")
    @classmethod
    def _known_allow_entries(cls, value: str) -> str:
        return ",".join(parse_allow_list(value))  # ValueError names a bad entry

    @field_validator(
        "x_base_url",
        "facebook_base_url",
        "youtube_base_url",
        "flickr_base_url",
        "yammer_base_url",
        "slack_base_url",
        "linkedin_base_url",
        "vimeo_base_url",
        "sharepoint_base_url",
        "instagram_base_url",
    )
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL")
        return f"{parts.scheme}://{parts.netloc}"

    def outbound_policy(self) -> OutboundPolicy:
        """Where the service may connect: public addresses and the allow list."""
        return OutboundPolicy(parse_allow_list(self.outbound_allow))

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if item and item != "*":
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is neither an IP address nor a network") from None
        return value

    @property
    def forwarded_allow_list(self) -> list[str]:
        return [part.strip() for part in self.forwarded_allow_ips.split(",") if part.strip()]

    @property
    def session_idle(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

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

        From CADENCE_SECRET_KEY when set, else from the key file (older keys on later
        lines); retired keys in CADENCE_RETIRED_SECRET_KEYS (comma-separated) follow
        either way. Empty when neither is there: app.keys decides whether to make one.
        """
        retired = [k.strip() for k in self.retired_secret_keys.split(",") if k.strip()]
        if self.secret_key:
            return [self.secret_key, *retired]
        if self.key_file.exists():
            keys = [line.strip() for line in self.key_file.read_text().splitlines()]
            return [*(k for k in keys if k), *retired]
        return []


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
