"""The HTTP transport the dispatcher gives connectors: httpx's API over aiohttp.

httpx's own async transport is far slower under concurrency on this kind of
machine (see bench/), so connectors keep httpx's API while the bytes go through
aiohttp. The `httpx-aiohttp` package's exception mapping is too coarse for us:
it reports a server that dropped the connection after receiving the request as
`httpx.ConnectTimeout`, which would read as "nothing was sent" and lead to a
duplicate post. Here every aiohttp failure is re-mapped by *when* it happened:
before the request left (connect errors) or possibly after (everything else).

Both transports follow the outbound policy (connectors/outbound.py): aiohttp asks a
resolver of ours, which returns only the addresses the policy allows, and connects to
those; httpx's own transport gets a network backend that does the same. An IP literal
skips aiohttp's resolver, so the transport checks it before the request.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from typing import Any

import aiohttp
import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from httpx_aiohttp import AiohttpTransport

from connectors.outbound import OutboundPolicy, literal_address

_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver: one lookup, and only the addresses the policy allows."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        allowed = await asyncio.to_thread(self.policy.resolve_allowed, host, port, family)
        return [
            ResolveResult(
                hostname=host,
                host=r.address,
                port=port,
                family=r.family,
                proto=0,
                flags=_NUMERIC,
            )
            for r in allowed
        ]

    async def close(self) -> None:
        return None


class PolicyNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allows.

    TLS still verifies (and sends SNI for) the URL's host name: httpcore starts TLS on
    the stream with the origin's host, whatever address the stream was opened to.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend, policy: OutboundPolicy) -> None:
        self.inner = inner
        self.policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            allowed = await asyncio.to_thread(self.policy.resolve_allowed, host, port)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        error: Exception | None = None
        for resolved in allowed:
            try:
                return await self.inner.connect_tcp(
                    resolved.address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"no address to connect to for {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for outbound connections")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


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
    def __init__(self, *, policy: OutboundPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def get_client(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
            limit=self.limits.max_connections or 100,
            resolver=PolicyResolver(self.policy),
        )
        return aiohttp.ClientSession(connector=connector)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if literal_address(host) is not None:
            # aiohttp connects to IP literals without asking the resolver.
            self.policy.resolve_allowed(host, request.url.port or 0)
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


def policy_http_transport(policy: OutboundPolicy, **kwargs: Any) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, connecting only where `policy` allows."""
    transport = httpx.AsyncHTTPTransport(**kwargs)
    pool = transport._pool  # httpx offers no public way to give httpcore a backend
    pool._network_backend = PolicyNetworkBackend(pool._network_backend, policy)
    return transport


def make_client(
    *,
    timeout: float,
    max_connections: int,
    outbound: OutboundPolicy | None = None,
    fast: bool = True,
) -> httpx.AsyncClient:
    """The client connectors get, connecting only where `outbound` allows (without one,
    to public addresses only). `fast=False` uses httpx's own transport (for comparison)."""
    policy = outbound if outbound is not None else OutboundPolicy()
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    transport: httpx.AsyncBaseTransport = (
        SafeAiohttpTransport(limits=limits, policy=policy)
        if fast
        else policy_http_transport(policy, limits=limits)
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": "Cadence/0.1"},
        follow_redirects=False,
    )
