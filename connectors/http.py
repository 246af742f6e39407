"""HTTP plumbing shared by the connectors: send a request and map what goes wrong.

This is where "did the platform get it?" is decided, so it is written out by hand:

- `send` turns transport failures into error kinds. A failure to *connect* (refused,
  unreachable, DNS, TLS handshake, connect or pool timeout) means nothing left this
  process: `Transient`. Any other transport failure (read or write timeout, reset,
  server gone before answering, garbled answer) happens after the request may have
  reached the platform: `Ambiguous`.
- `check_common_status` maps the answers every platform gives the same meaning:
  429 -> `RateLimited` (with `Retry-After`), 5xx -> `Transient`, 401 -> `AuthExpired`.
  Other statuses are the platform-specific code's business.

Messages never contain the URL (chat webhook URLs are secrets), a header value, or any
string the caller names as secret. Importing this module also installs a filter that
strips the path and query from the URLs httpx writes to its own request log.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from connectors.base import Ambiguous, AuthExpired, Permanent, RateLimited, Transient
from connectors.outbound import AddressNotAllowed

try:  # the httpx-aiohttp transport wraps aiohttp's exceptions; classify by the original
    import aiohttp
except ImportError:  # pragma: no cover - aiohttp comes with httpx-aiohttp
    aiohttp = None  # type: ignore[assignment]

USER_AGENT = "Cadence/0.1"
EXCERPT_CHARS = 200
REDACTED = "[redacted]"

# Failures that happen before a single byte of the request is written.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
ADDRESS_NOT_ALLOWED = "address_not_allowed"


class NotConnected(Transient):
    """No connection could be made (refused, unreachable, DNS, TLS, timeout): nothing
    was sent. `host` is the host name it was for (never a path: URLs can be secrets)."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host


def not_allowed(exc: AddressNotAllowed) -> Permanent:
    """The outbound policy refused the address: fails the same way on every try."""
    return Permanent(exc.message, code=ADDRESS_NOT_ALLOWED)


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    secrets: Iterable[str | None] = (),
    **kwargs: Any,
) -> httpx.Response:
    """`http.request(method, url, **kwargs)`, with transport failures mapped to error kinds.

    Raises `Transient` when the request certainly did not leave (connection refused or
    timed out, no free connection in the pool) and `Ambiguous` when it may have reached
    the platform (timeout or disconnect after sending). The response is read in full,
    so a failure while reading the body is caught here too. `secrets` are extra strings
    to keep out of error messages (the URL and header values always are).
    """
    try:
        return await http.request(method, url, **kwargs)
    except AddressNotAllowed as exc:
        raise not_allowed(exc) from None
    except httpx.UnsupportedProtocol:
        # Raised before any connection is made; config validation should prevent it.
        raise Permanent("the URL's scheme is not supported", code="unsupported_url") from None
    except (httpx.TransportError, httpx.DecodingError) as exc:
        hidden = _request_secrets(url, kwargs.get("headers"), secrets)
        detail = _describe(exc, hidden)
        if _nothing_sent(exc):
            raise NotConnected(
                f"could not connect, nothing was sent ({detail})", _host(url)
            ) from None
        raise Ambiguous(f"no answer after the request was sent ({detail})") from None
    except Exception as exc:
        # aiohttp errors the httpx-aiohttp transport does not map (a malformed answer).
        if aiohttp is not None and isinstance(exc, aiohttp.ClientError):
            hidden = _request_secrets(url, kwargs.get("headers"), secrets)
            detail = _describe(exc, hidden)
            if _aiohttp_nothing_sent(exc):
                raise NotConnected(
                    f"could not connect, nothing was sent ({detail})", _host(url)
                ) from None
            raise Ambiguous(f"no valid answer after the request was sent ({detail})") from None
        raise


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or "the server"
    except httpx.InvalidURL:
        return "the server"


def _nothing_sent(exc: Exception) -> bool:
    cause = exc.__cause__
    if aiohttp is not None and isinstance(cause, aiohttp.ClientError):
        # httpx-aiohttp maps every aiohttp.ClientConnectionError, including "server
        # disconnected" after the request went out, to httpx.ConnectTimeout: judge the
        # original exception instead.
        return _aiohttp_nothing_sent(cause)
    return isinstance(exc, _NOT_SENT)


def _aiohttp_nothing_sent(exc: BaseException) -> bool:
    if aiohttp is None:  # not installed: no aiohttp error can reach here
        return False
    # ClientConnectorError covers refused, DNS, TLS and proxy connection failures;
    # ConnectionTimeoutError covers both the pool wait and the TCP connect.
    return isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)


def _request_secrets(url: str, headers: object, extra: Iterable[str | None]) -> list[str]:
    hidden = [url, *(s for s in extra if s)]
    parsed = httpx.URL(url)
    path = parsed.raw_path.decode("ascii", "replace")
    if len(path) > 1:
        hidden.append(path)
        hidden.append(parsed.path)
    if parsed.query:
        hidden.append(parsed.query.decode("ascii", "replace"))
    if isinstance(headers, Mapping):
        hidden += [v for v in headers.values() if isinstance(v, str) and len(v) >= 8]
    return hidden


def _describe(exc: BaseException, hidden: Iterable[str]) -> str:
    cause = exc.__cause__
    if aiohttp is not None and isinstance(cause, aiohttp.ClientError):
        exc = (
            cause  # httpx-aiohttp's mapped name can mislead ("ConnectTimeout: Server disconnected")
        )
    text = redact(str(exc), hidden)
    name = type(exc).__name__
    return f"{name}: {excerpt(text)}" if text.strip() else name


# -- answers -----------------------------------------------------------------------


def check_common_status(
    response: httpx.Response,
    *,
    platform: str,
    now: datetime | None = None,
    secrets: Iterable[str | None] = (),
) -> None:
    """Raise the error kind for answers that mean the same everywhere; return otherwise.

    429 -> `RateLimited` (retry_at from `Retry-After`, None when absent or unreadable),
    5xx -> `Transient`, 401 -> `AuthExpired`. Other statuses are left to the caller.
    """
    status = response.status_code
    if status == 429:
        retry_at = retry_after(response.headers, now=now)
        raise RateLimited(_status_message(platform, response, secrets), retry_at)
    if status >= 500:
        raise Transient(_status_message(platform, response, secrets))
    if status == 401:
        raise AuthExpired(_status_message(platform, response, secrets))


def _status_message(platform: str, response: httpx.Response, secrets: Iterable[str | None]) -> str:
    body = body_excerpt(response, secrets=secrets)
    reason = response.reason_phrase
    head = f"{platform} answered HTTP {response.status_code}"
    if reason:
        head += f" {reason}"
    return f"{head}: {body}" if body else head


def retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> datetime | None:
    """When `Retry-After` (delay in seconds, or an HTTP-date) says to try again.

    None when the header is absent or unreadable; a date in the past gives `now`.
    """
    value = headers.get("retry-after")
    if value is None:
        return None
    return parse_retry_after(value, now=now)


def parse_retry_after(value: str, *, now: datetime | None = None) -> datetime | None:
    now = now if now is not None else datetime.now(UTC)
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            return None
        return now + timedelta(seconds=max(seconds, 0.0))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(when.astimezone(UTC), now)


def body_excerpt(response: httpx.Response, *, secrets: Iterable[str | None] = ()) -> str:
    """A short, single-line, secret-free piece of the answer's body, for messages."""
    try:
        text = response.text
    except Exception:  # undecodable body
        return ""
    return excerpt(redact(text, secrets))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every occurrence of each secret (longest first) replaced."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def json_body(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it is empty or not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


# -- logging -----------------------------------------------------------------------


def safe_url(url: httpx.URL | str) -> str:
    """Scheme, host and port only: what may appear in logs and messages."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    port = f":{parsed.port}" if parsed.port is not None else ""
    tail = f"/{REDACTED}" if len(parsed.raw_path) > 1 else "/"
    return f"{parsed.scheme}://{parsed.host}{port}{tail}"


class RedactUrlsFilter(logging.Filter):
    """Rewrites httpx.URL arguments of log records to `safe_url` (httpx logs every request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, httpx.URL) for a in args):
            record.args = tuple(safe_url(a) if isinstance(a, httpx.URL) else a for a in args)
        return True


def install_log_redaction(logger_names: Iterable[str] = ("httpx",)) -> None:
    """Attach `RedactUrlsFilter` to the named loggers, once."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrlsFilter) for f in logger.filters):
            logger.addFilter(RedactUrlsFilter())


install_log_redaction()
