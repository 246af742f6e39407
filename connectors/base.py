"""The connector contract: what crosses the boundary, and the error kinds.

A connector is built per channel from its config and decrypted credentials and is
given an HTTP client, so tests can point it at a fake platform. `validate` is pure;
`publish` either returns a PublishResult or raises one of the PublishError kinds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict

from connectors.outbound import OutboundPolicy


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]

# Marks a field that decides where the credentials are sent (a URL, a host, a port, a
# TLS mode). Changing one needs the credentials again in the same request, so stored
# secrets can't be walked out to another server.
DESTINATION: JsonDict = {"destination": True}


def destination_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` marked with DESTINATION."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("destination")
    )


class PlatformConfig(BaseModel):
    """Non-secret settings. Every platform accepts `api_base` to point at another host."""

    model_config = ConfigDict(extra="forbid")

    api_base: HttpUrlStr | None = Field(default=None, json_schema_extra=DESTINATION)

    @classmethod
    def from_stored(cls, values: Mapping[str, Any]) -> PlatformConfig:
        """Stored settings, read leniently: keys this version no longer knows (a
        retired setting such as e-mail's `ca_file`) are ignored, not an error."""
        return cls.model_validate({k: v for k, v in values.items() if k in cls.model_fields})


class PlatformCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


@dataclass(frozen=True)
class MediaFile:
    id: str
    filename: str
    content_type: str
    size: int
    path: Path
    width: int | None = None
    height: int | None = None
    url: str | None = None

    @property
    def kind(self) -> str:
        """image, gif, video or other: the unit platforms set limits on."""
        if self.content_type == "image/gif":
            return "gif"
        return self.content_type.split("/", 1)[0] if "/" in self.content_type else "other"


@dataclass(frozen=True)
class ObjectiveRef:
    id: str
    name: str


@dataclass(frozen=True)
class PartRef:
    """A part of a delivery already published: 0 the post itself, 1... its thread's
    replies (X) or its first comment (Facebook)."""

    index: int
    external_id: str
    permalink: str | None = None


# Called by a connector as soon as a part is out, so a failure later still lists it
# and a retry continues after it (app/exchange/threads.py records it).
PartDone = Callable[[PartRef], Awaitable[None]]


@dataclass(frozen=True)
class PublishRequest:
    delivery_id: str
    post_id: str
    text: str
    title: str | None = None
    link: str | None = None
    media: tuple[MediaFile, ...] = ()
    objectives: tuple[ObjectiveRef, ...] = ()
    scheduled_at: datetime | None = None
    internal_only: bool = False
    post_url: str | None = None
    # exchange: X threads and Facebook first comments (app/exchange/threads.py).
    thread: tuple[str, ...] = ()
    first_comment: str | None = None
    done_parts: tuple[PartRef, ...] = ()
    on_part: PartDone | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PublishResult:
    external_id: str | None = None
    permalink: str | None = None


async def reported(request: PublishRequest, index: int, result: PublishResult) -> PublishResult:
    """Tell the dispatcher a part is out (posts with a thread or first comment only: a
    plain post is recorded by its outcome, as ever)."""
    if (
        request.on_part is not None
        and result.external_id
        and (request.thread or request.first_comment)
    ):
        await request.on_part(PartRef(index, result.external_id, result.permalink))
    return result


@dataclass(frozen=True)
class Problem:
    """A reason a request cannot go to a platform, naming the field at fault."""

    field: str
    message: str


Audience = Literal["external", "internal"]


@dataclass(frozen=True)
class Measure:
    """How much of its text limit a post uses, counted the platform's way."""

    used: int
    limit: int | None  # None: the platform sets no length limit
    unit: str  # what `used` counts, in words ("bytes", "characters as X counts them")

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit


@dataclass(frozen=True)
class Limits:
    """What a platform accepts, declared once on its connector class.

    `rules.within_limits` checks a request against these; the compose page's counter
    reads `text` through the class's `measure()`.
    """

    text: int | None = None  # the most `measure()` may count; None: no limit
    text_unit: str = "characters"
    # The text may be empty only when the post carries media.
    text_required: bool = True
    title: int | None = None  # characters
    title_required: bool = False
    # Content type -> largest file in bytes. None: files are not uploaded to this
    # platform (sent as links, or left out), so any type and size will do.
    media_types: Mapping[str, int] | None = None
    max_images: int | None = None
    max_videos: int | None = None  # videos and GIFs, which never go with images
    # The post must carry exactly one file, described thus ("video"); None: any number.
    single_file: str | None = None


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str
    account: dict[str, Any] = field(default_factory=dict)
    # The platform refused the credentials (revoked token, deleted webhook, bad login),
    # as opposed to being unreachable: the channel needs reconnecting.
    credentials_refused: bool = False


class OutcomeKind(StrEnum):
    """What became of one attempt at a delivery: the one vocabulary of outcomes.

    The connector kinds come from a platform call; the others are Cadence's own
    decisions before or instead of a call. Stored as the delivery's `error_kind` and
    each attempt's `outcome`.
    """

    published = "published"
    # A platform call's answer (the PublishError kinds below).
    transient = "transient"
    rate_limited = "rate_limited"
    auth_expired = "auth_expired"
    permanent = "permanent"
    ambiguous = "ambiguous"
    error = "error"
    # Decided by Cadence before any call: nothing went out.
    missed_window = "missed_window"
    channel_disabled = "channel_disabled"
    internal_only = "internal_only"
    config_invalid = "config_invalid"
    credentials_unreadable = "credentials_unreadable"
    media_missing = "media_missing"
    # A worker stopped answering mid-call: whether it went out is unknown.
    lease_expired = "lease_expired"


class PublishError(Exception):
    """Base of the error kinds. Messages must never contain secrets."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.error

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Transient(PublishError):
    """Nothing was published and trying again later may work (5xx, refused connection)."""

    kind = OutcomeKind.transient


class RateLimited(PublishError):
    """The platform asks us to wait until retry_at; does not use up an attempt."""

    kind = OutcomeKind.rate_limited

    def __init__(self, message: str, retry_at: datetime | None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class AuthExpired(PublishError):
    """The credential is expired or revoked: the channel needs reconnecting."""

    kind = OutcomeKind.auth_expired


class Permanent(PublishError):
    """The platform refused this content for good (invalid, duplicate, forbidden)."""

    kind = OutcomeKind.permanent

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Ambiguous(PublishError):
    """The request may have reached the platform: the outcome cannot be known."""

    kind = OutcomeKind.ambiguous


SaveCredentials = Callable[[dict[str, Any]], Awaitable[None]]
# Given the access token the platform refused, renews it once across every process (or
# takes the one another process just renewed) and answers the channel's credentials;
# raises AuthExpired when the grant is dead. See app/connect/tokens.py.
RefreshCredentials = Callable[[str], Awaitable[dict[str, Any]]]


class Connector(ABC):
    """One channel's connection to its platform.

    Built per channel (and per use) from the validated config and decrypted
    credentials, with the HTTP client the caller owns: the dispatcher in production,
    a client pointed at a fake platform in tests. Connectors never log or raise
    secrets: error messages carry the platform's words, not tokens or webhook URLs.
    """

    # The platform's facts, declared by each concrete class; the registry, the channel
    # schemas and the compose page's counters are derived from them.
    slug: ClassVar[str]  # the platform's name in the API and the database ("x")
    label: ClassVar[str]  # what a person picks from ("Facebook Page")
    short_label: ClassVar[str]  # the platform's name in messages ("Facebook")
    # None: the channel's creator chooses (a JSON webhook can go anywhere).
    audience: ClassVar[Audience | None]
    limits: ClassVar[Limits]
    # Set by the caller after construction (connectors' own __init__ signatures vary):
    # renews a refused access token once across processes; see RefreshCredentials.
    refresh_credentials: RefreshCredentials | None = None
    # The platform's schemas: what the given config and credentials are read into.
    config_model: ClassVar[type[PlatformConfig]] = PlatformConfig
    credentials_model: ClassVar[type[PlatformCredentials]] = PlatformCredentials

    @classmethod
    def for_config(cls, config: Mapping[str, Any] | None) -> type[Connector]:
        """The rules for one channel's config: the class itself, unless a channel can
        change them (a Mastodon instance's own text limit)."""
        return cls

    @classmethod
    def measure(cls, request: PublishRequest) -> Measure:
        """The text's length as the platform counts it against `limits.text`."""
        return Measure(len(request.text), cls.limits.text, cls.limits.text_unit)

    @classmethod
    @abstractmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        """Why the request cannot go to this platform (pure; no I/O), or nothing."""

    def __init__(
        self,
        config: PlatformConfig,
        credentials: PlatformCredentials,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        save_credentials: SaveCredentials | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.config = self.config_model.model_validate(config, from_attributes=True)
        # Where connections the connector opens itself (SMTP, tweepy's requests) may go;
        # the HTTP client carries its own. Without one: public addresses only.
        self.outbound = outbound if outbound is not None else OutboundPolicy()
        self.credentials = self.credentials_model.model_validate(credentials, from_attributes=True)
        self.http = http
        # The caller's clock, for Retry-After arithmetic and dates a platform wants.
        self.now = now or (lambda: datetime.now(UTC))
        self._save_credentials = save_credentials

    async def save_credentials(self, changed: dict[str, Any]) -> None:
        """Keep credentials the platform renewed (a refreshed OAuth access token).

        `changed` holds only the fields that changed; the caller merges, encrypts and
        stores them. Without a caller that stores them, they live for this connector only.
        """
        self.credentials = self.credentials.model_copy(update=changed)
        if self._save_credentials is not None:
            await self._save_credentials(changed)

    @abstractmethod
    async def publish(self, request: PublishRequest) -> PublishResult:
        """Publish once, or raise one of the PublishError kinds."""

    @abstractmethod
    async def check(self) -> CheckResult:
        """Check the credentials with the platform's cheapest authenticated call, posting nothing."""
