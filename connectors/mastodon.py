"""Mastodon: schemas, the instance's way of counting, and the REST API connector.

What the connector sends (docs.joinmastodon.org/methods/statuses, .../methods/media),
to the channel's own instance, `Authorization: Bearer <access token>`:

- each image or video: `POST /api/v2/media` (multipart `file`). 200 means processed;
  202 means the file is still being processed (its `url` is null): the connector asks
  `GET /api/v1/media/{id}` until it answers 200 (206 Partial Content meanwhile);
- then `POST /api/v1/statuses` (JSON `status`, `media_ids`, `visibility`,
  `spoiler_text`) with `Idempotency-Key: <delivery id>`: Mastodon keeps the key for an
  hour and answers a repeat with the status it already made, so a retry after an
  ambiguous outcome cannot post twice within that hour. The answer is the Status; its
  `id` is the external id, its `url` the permalink.

Errors, as Mastodon answers them (`{"error": "..."}`): 401 is a token that no longer
works and 403 a token without the `write` scopes or a disabled login (both AuthExpired:
reconnecting fixes them); 422 is content refused for good ("Validation failed: Text
character limit of 500 exceeded"), other 4xx are Permanent; 429 waits for
`Retry-After` when sent, else until `X-RateLimit-Reset` (an ISO 8601 time), else five
minutes (the window of Mastodon's default limits); 5xx is Transient. An uploaded file
no status uses is seen by nobody, so anything going wrong before the status request
is Transient at worst, never Ambiguous.

The instance's text limit is in `/api/v2/instance` (`configuration.statuses.
max_characters`, 500 when absent); `check()` reads it and reports it with the account.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
from collections.abc import Mapping
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any, Literal

import grapheme
import httpx
from pydantic import Field

from connectors.base import (
    DESTINATION,
    Ambiguous,
    AuthExpired,
    CheckResult,
    Connector,
    HttpUrlStr,
    Limits,
    Measure,
    MediaFile,
    Permanent,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.check_answers import check_failed, shown_name, unexpected_answer
from connectors.http import (
    USER_AGENT,
    body_excerpt,
    check_common_status,
    excerpt,
    json_body,
    redact,
    retry_after,
    send,
)
from connectors.outbound import OutboundPolicy, literal_address
from connectors.rules import MB, media_problems, refuse, within_limits

DEFAULT_MAX_CHARACTERS = 500
URL_LENGTH = 23  # characters_reserved_per_url: every URL counts this much
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
MEDIA_POLL_SECONDS = 1.0
MEDIA_POLLS = 60  # then the file is taken as stuck: Transient, nothing was posted

Visibility = Literal["public", "unlisted", "private", "direct"]


class MastodonConfig(PlatformConfig):
    instance: HttpUrlStr = Field(json_schema_extra=DESTINATION)
    visibility: Visibility = "public"
    # Shown before the post, which stays folded behind it; counts towards the limit.
    content_warning: str | None = Field(default=None, max_length=500)
    # The instance's own text limit (`/api/v2/instance`), stored by the channel's
    # checks (the Test button, the daily check); validation and the counter use it.
    max_characters: int | None = Field(default=None, ge=1, le=1_000_000)


class MastodonCredentials(PlatformCredentials):
    access_token: str


# -- counting the way Mastodon counts -----------------------------------------------------

_TOKENS = re.compile(r"(\s+)")  # fixed pattern, linear: splits on whitespace, keeping it
_URL_HEAD = "([{\"'"
_URL_TAIL = ".,:;!?'\")]"
_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _domain_end(token: str, start: int) -> int:
    """Where the domain of a remote mention starting at `start` (after its '@') ends."""
    end = start
    while end < len(token) and (token[end].isalnum() or token[end] in "_.-"):
        end += 1
    while end > start and token[end - 1] in ".-":  # a domain ends with a word character
        end -= 1
    return end


def _local_mentions(token: str) -> str:
    """`token` with every remote mention `@user@domain` cut to `@user`. One pass."""
    out: list[str] = []
    i = 0
    while i < len(token):
        char = token[i]
        prev = token[i - 1] if i else ""
        if char != "@" or (prev and (prev.isalnum() or prev in "_/")):
            out.append(char)
            i += 1
            continue
        j = i + 1
        while j < len(token) and token[j] in _USERNAME_CHARS:
            j += 1
        out.append(token[i:j])
        if j > i + 1 and j < len(token) and token[j] == "@":
            end = _domain_end(token, j + 1)
            if end > j + 1:
                j = end  # the domain part does not count
        i = j
    return "".join(out)


def _countable_token(token: str) -> str:
    lead = len(token) - len(token.lstrip(_URL_HEAD))  # "(https://..." is a URL too
    rest = token[lead:]
    for scheme in ("https://", "http://"):
        if rest.lower().startswith(scheme) and len(rest) > len(scheme):
            body = rest.rstrip(_URL_TAIL)
            return token[:lead] + "x" * URL_LENGTH + rest[len(body) :]
    return _local_mentions(token) if "@" in token else token


def countable_text(text: str) -> str:
    """The text as Mastodon counts it: each URL as 23 characters, remote mentions by
    their local part only. Linear in the text."""
    return "".join(
        part if index % 2 else _countable_token(part)
        for index, part in enumerate(_TOKENS.split(text))
    )


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts them: grapheme clusters of `countable_text`."""
    return int(grapheme.length(countable_text(text)))


def _host_allowed_over_http(host: str, outbound: OutboundPolicy) -> bool:
    """http:// only for hosts the operator allowed (CADENCE_OUTBOUND_ALLOW)."""
    if outbound.allows_name(host):
        return True
    ip = literal_address(host)
    return ip is not None and any(
        ip in network for network in outbound.networks if ip.version == network.version
    )


def _id(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


class MastodonConnector(Connector):
    """Posts a status to the account of the token on the channel's instance."""

    slug = "mastodon"
    label = "Mastodon"
    short_label = "Mastodon"
    audience = "external"
    limits = Limits(
        text=DEFAULT_MAX_CHARACTERS,
        text_unit="characters as Mastodon counts them",
        media_types={
            "image/jpeg": 16 * MB,
            "image/png": 16 * MB,
            "image/gif": 16 * MB,
            "image/webp": 16 * MB,
            "video/mp4": 99 * MB,
            "video/quicktime": 99 * MB,
            "video/webm": 99 * MB,
        },
        max_images=4,
        max_videos=1,
    )
    config: MastodonConfig
    credentials: MastodonCredentials
    config_model = MastodonConfig
    credentials_model = MastodonCredentials
    media_poll_seconds: float = MEDIA_POLL_SECONDS

    @classmethod
    def measure(cls, request: PublishRequest) -> Measure:
        return Measure(mastodon_length(request.text), cls.limits.text, cls.limits.text_unit)

    @classmethod
    def for_config(cls, config: Mapping[str, Any] | None) -> type[Connector]:
        limit = (config or {}).get("max_characters")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            return with_text_limit(limit)
        return cls

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    # -- addresses -----------------------------------------------------------------------

    @property
    def base(self) -> str:
        return (self.config.api_base or self.config.instance).rstrip("/")

    def _checked_base(self) -> str:
        url = httpx.URL(self.base)
        if url.scheme == "http" and not _host_allowed_over_http(url.host, self.outbound):
            raise Permanent(
                f"the instance {url.host} is given with http://; only hosts in "
                "CADENCE_OUTBOUND_ALLOW may be reached without https",
                code="insecure_instance",
            )
        return self.base

    def secrets(self) -> list[str]:
        return [self.credentials.access_token]

    def _headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials.access_token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **extra,
        }

    # -- answers -------------------------------------------------------------------------

    def _message(self, response: httpx.Response) -> str:
        body = json_body(response)
        words = body.get("error") if isinstance(body, dict) else None
        text = (
            str(words) if isinstance(words, str) else body_excerpt(response, secrets=self.secrets())
        )
        head = f"Mastodon answered HTTP {response.status_code}"
        return f"{head}: {excerpt(redact(text, self.secrets()))}" if text else head

    def rate_limit_until(self, headers: httpx.Headers) -> datetime:
        explicit = retry_after(headers, now=self.now())
        if explicit is not None:
            return explicit
        reset = headers.get("x-ratelimit-reset")
        if reset:
            try:
                when = datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
            except ValueError:
                when = None
            if when is not None and when.tzinfo is not None:
                return max(when, self.now())
        return self.now() + DEFAULT_RATE_LIMIT_WAIT

    def _raise_for_answer(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        status = response.status_code
        if status == 429:
            raise RateLimited(self._message(response), self.rate_limit_until(response.headers))
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )
        if status == 403:
            raise AuthExpired(
                f"{self._message(response)} (the token lacks the write scopes or the login "
                "is disabled: reconnect the channel)"
            )
        code = "validation_failed" if status == 422 else f"http_{status}"
        raise Permanent(self._message(response), code=code)

    # -- publishing ----------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(media_problems(type(self), request.media), code="media")
        base = self._checked_base()
        try:
            media_ids = [await self._upload(base, item) for item in request.media]
        except Ambiguous as exc:
            raise Transient(
                f"{exc.message}; nothing was posted (files come before the status)"
            ) from None
        payload: dict[str, Any] = {"status": request.text, "visibility": self.config.visibility}
        if media_ids:
            payload["media_ids"] = media_ids
        if self.config.content_warning:
            payload["spoiler_text"] = self.config.content_warning
        response = await send(
            self.http,
            "POST",
            f"{base}/api/v1/statuses",
            json=payload,
            headers=self._headers(**{"Idempotency-Key": request.delivery_id}),
            secrets=self.secrets(),
        )
        self._raise_for_answer(response)
        status = json_body(response)
        if not isinstance(status, dict):
            return PublishResult()  # posted (a 2xx); nothing to link to
        url = status.get("url") or status.get("uri")
        return PublishResult(
            external_id=_id(status.get("id")),
            permalink=url if isinstance(url, str) and url else None,
        )

    async def _upload(self, base: str, media: MediaFile) -> str:
        with ExitStack() as stack:
            try:
                handle = stack.enter_context(media.path.open("rb"))
            except OSError:
                raise Permanent(
                    f"{media.filename}: the media file cannot be read", code="media_missing"
                ) from None
            response = await send(
                self.http,
                "POST",
                f"{base}/api/v2/media",
                files={"file": (media.filename, handle, media.content_type)},
                headers=self._headers(),
                secrets=self.secrets(),
            )
        self._raise_for_answer(response)
        answer = json_body(response)
        media_id = _id(answer.get("id")) if isinstance(answer, dict) else None
        if media_id is None:
            raise Transient("Mastodon did not return the id of an uploaded file")
        if response.status_code == 202:
            await self._wait_processed(base, media_id)
        return media_id

    async def _wait_processed(self, base: str, media_id: str) -> None:
        """Ask until the file is processed: 206 while it is, 200 once it is done."""
        for _ in range(MEDIA_POLLS):
            await asyncio.sleep(self.media_poll_seconds)
            response = await send(
                self.http,
                "GET",
                f"{base}/api/v1/media/{media_id}",
                headers=self._headers(),
                secrets=self.secrets(),
            )
            self._raise_for_answer(response)
            if response.status_code == 200:
                return
        raise Transient("Mastodon is still processing an uploaded file; nothing was posted")

    # -- checking ------------------------------------------------------------------------

    async def max_characters(self) -> int:
        """The instance's own text limit (`/api/v2/instance`, public): 500 when unsaid."""
        response = await send(
            self.http, "GET", f"{self._checked_base()}/api/v2/instance", secrets=self.secrets()
        )
        self._raise_for_answer(response)
        answer = json_body(response)
        configuration = answer.get("configuration") if isinstance(answer, dict) else None
        statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
        limit = statuses.get("max_characters") if isinstance(statuses, dict) else None
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            return limit
        return DEFAULT_MAX_CHARACTERS

    async def check(self) -> CheckResult:
        """`GET /api/v1/accounts/verify_credentials`, then the instance's limit. Posts nothing."""
        host = httpx.URL(self.base).host
        try:
            response = await send(
                self.http,
                "GET",
                f"{self._checked_base()}/api/v1/accounts/verify_credentials",
                headers=self._headers(),
                secrets=self.secrets(),
            )
            self._raise_for_answer(response)
            account = json_body(response)
            if not isinstance(account, dict) or not account.get("username"):
                return unexpected_answer(self.short_label)
            limit = await self.max_characters()
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=host)
        shown = {
            k: account[k] for k in ("id", "username", "acct", "display_name", "url") if k in account
        }
        shown["max_characters"] = limit
        return CheckResult(
            ok=True,
            detail=f"Mastodon accepts the token of @{shown_name(account['username'])} on {host}",
            account=shown,
        )


@functools.cache
def with_text_limit(limit: int) -> type[MastodonConnector]:
    """MastodonConnector with an instance's own text limit (one class per limit)."""
    limits = dataclasses.replace(MastodonConnector.limits, text=limit)
    return type("MastodonConnector", (MastodonConnector,), {"limits": limits})
