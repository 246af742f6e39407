"""Building a channel's connector and bounding one call to it.

Shared by the dispatcher (publish) and the channel test (check), so the guard formula
and the mapping of what a call can end in are written once:

- a failure before any call (stored settings that no longer validate, credentials that
  cannot be decrypted, a media file missing on disk) raises `NotSent`: nothing went out;
- a call ends in its result or a `CallFailure` with an `OutcomeKind`: the connector's
  own error kind, or `ambiguous` when the call hung past the guard or raised something
  unexpected (the request may have gone out).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from app.channels.service import UNREADABLE
from app.crypto import CredentialBox, CredentialsUnreadable
from connectors.base import (
    Connector,
    MediaFile,
    OutcomeKind,
    PublishError,
    PublishRequest,
    RateLimited,
    RefreshCredentials,
    SaveCredentials,
)
from connectors.outbound import OutboundPolicy
from connectors.registry import Platform

log = logging.getLogger(__name__)
T = TypeVar("T")

# Slowest upload speed assumed when bounding a call that sends media (bytes/s).
MIN_UPLOAD_RATE = 256 * 1024


def call_guard_seconds(timeout: float, media: Iterable[MediaFile] = ()) -> float:
    """An outer bound for one connector call: its HTTP timeouts apply per request, so a
    call that uploads a large video in many chunks may rightly take much longer."""
    return timeout * 2 + 5 + sum(m.size for m in media) / MIN_UPLOAD_RATE


class NotSent(Exception):
    """A failure before any platform call: nothing went out. The message names the fix."""

    def __init__(self, kind: OutcomeKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class CallFailure:
    """How a connector call failed: the outcome kind and a message free of secrets."""

    kind: OutcomeKind
    message: str
    retry_at: datetime | None = None
    # The connector's own error, when it raised one (the channel test words its answer
    # by it without quoting the server).
    error: PublishError | None = None


def _problems(exc: ValidationError) -> str:
    # `msg` never contains the input, so no secret is echoed.
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


@dataclass(frozen=True)
class ChannelSettings:
    """A channel's config and credentials, read into the platform's models."""

    config: BaseModel
    credentials: BaseModel


def read_settings(
    platform: Platform, *, config: Mapping[str, Any], credentials_encrypted: str, box: CredentialBox
) -> ChannelSettings:
    """Validate the stored config and decrypt the credentials; raises NotSent."""
    try:
        config_model = platform.config_model.from_stored(config)
    except ValidationError as exc:
        raise NotSent(
            OutcomeKind.config_invalid,
            f"the channel's settings are no longer valid: {_problems(exc)}; update them",
        ) from None
    try:
        raw = box.open(credentials_encrypted)
    except CredentialsUnreadable:
        raise NotSent(OutcomeKind.credentials_unreadable, UNREADABLE) from None
    try:
        credentials = platform.credentials_model.model_validate(raw)
    except ValidationError as exc:
        raise NotSent(
            OutcomeKind.credentials_unreadable,
            f"the channel's credentials are no longer valid ({_problems(exc)}): re-enter them",
        ) from None
    return ChannelSettings(config_model, credentials)


class SettingsCache:
    """Channels' validated settings, reused while their stored config and credentials
    are unchanged: validating and decrypting them for every delivery is most of the
    cost of a call to a fast platform. A connector itself is built per call (some keep
    state for one use)."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[Mapping[str, Any], str, ChannelSettings]] = (
            OrderedDict()
        )

    def get(
        self,
        platform: Platform,
        *,
        channel_id: str,
        config: Mapping[str, Any],
        credentials_encrypted: str,
        box: CredentialBox,
    ) -> ChannelSettings:
        entry = self._entries.get(channel_id)
        if entry is not None and entry[0] == config and entry[1] == credentials_encrypted:
            self._entries.move_to_end(channel_id)
            return entry[2]
        settings = read_settings(
            platform, config=config, credentials_encrypted=credentials_encrypted, box=box
        )
        self._entries[channel_id] = (config, credentials_encrypted, settings)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return settings


def build_connector(
    platform: Platform,
    settings: ChannelSettings,
    *,
    http: httpx.AsyncClient,
    now: Callable[[], datetime],
    save_credentials: SaveCredentials | None,
    outbound: OutboundPolicy | None,
    refresh_credentials: RefreshCredentials | None = None,
) -> Connector:
    connector = platform.connector(
        settings.config,  # type: ignore[arg-type]
        settings.credentials,  # type: ignore[arg-type]
        http,
        now=now,
        save_credentials=save_credentials,
        outbound=outbound,
    )
    connector.refresh_credentials = refresh_credentials
    return connector


def check_media(request: PublishRequest) -> None:
    """Raise NotSent if a media file of the post is missing on disk."""
    for media in request.media:
        if not media.path.is_file():
            raise NotSent(OutcomeKind.media_missing, f"media file {media.filename} is missing")


async def bounded_call(call: Awaitable[T], *, guard: float, label: str) -> T | CallFailure:
    """Await a connector call, at most `guard` seconds; map how it failed.

    Cancellation is not caught: the caller decides what an interrupted call means.
    """
    try:
        return await asyncio.wait_for(call, timeout=guard)
    except RateLimited as exc:
        return CallFailure(exc.kind, exc.message, exc.retry_at, error=exc)
    except PublishError as exc:
        return CallFailure(exc.kind, exc.message, error=exc)
    except TimeoutError:
        # The HTTP client has its own timeouts; this bounds a connector that hangs anyway.
        return CallFailure(OutcomeKind.ambiguous, f"{label} did not answer in time")
    except Exception as exc:
        # A connector bug after the request may have gone out: unknown, not failed, so
        # nobody retries blindly. The traceback goes to the log, never the credentials.
        log.exception("connector raised an unexpected error", extra={"platform": label})
        return CallFailure(
            OutcomeKind.ambiguous, f"unexpected {type(exc).__name__} in the {label} connector"
        )
