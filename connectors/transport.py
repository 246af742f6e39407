"""The HTTP transport the dispatcher gives connectors: httpx's API over aiohttp.

httpx's own async transport is far slower under concurrency on this kind of
machine (see bench/), so connectors keep httpx's API while the bytes go through
aiohttp. The `httpx-aiohttp` package's exception mapping is too coarse for us:
it reports a server that dropped the connection after receiving the request as
`httpx.ConnectTimeout`, which would read as "nothing was sent" and lead to a
duplicate post. Here every aiohttp failure is re-mapped by *when* it happened:
before the request left (connect errors) or possibly after (everything else).
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def _remap(exc: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    cause = exc.__cause__
    message = type(cause).__name__ if cause is not None else type(exc).__name__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(cause, aiohttp.ClientConnectorError):
        # Refused, unreachable, DNS failure, TLS handshake failure: nothing was sent.
        return httpx.ConnectError(message, request=request)
    if isinstance(cause, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(cause, aiohttp.ClientError | OSError):
        return httpx.ReadError(message, request=request)
    return exc


class SafeAiohttpTransport(AiohttpTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            remapped = _remap(exc, request)
            if remapped is exc:
                raise
            raise remapped from exc.__cause__
        except TimeoutError as exc:  # asyncio's, from a total timeout inside aiohttp
            raise httpx.ReadTimeout("TimeoutError", request=request) from exc
        except aiohttp.ClientError as exc:
            # Left unmapped by httpx-aiohttp (a malformed answer); its text holds the URL.
            unmapped = httpx.TransportError(type(exc).__name__)
            unmapped.__cause__ = exc
            raise _remap(unmapped, request) from exc


def make_client(*, timeout: float, max_connections: int, fast: bool = True) -> httpx.AsyncClient:
    """The client connectors get. `fast=False` uses httpx's own transport (for comparison)."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    transport: httpx.AsyncBaseTransport = (
        SafeAiohttpTransport(limits=limits) if fast else httpx.AsyncHTTPTransport(limits=limits)
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": "Cadence/0.1"},
        follow_redirects=False,
    )
