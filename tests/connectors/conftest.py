"""Fixtures for the connector tests: the fake sink server, an SMTP server, and one
harness per connector (and per HTTP transport) that the contract suite runs against."""

from __future__ import annotations

import importlib
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.connectors.harnesses import (
    EmailHarness,
    Harness,
    MattermostHarness,
    SlackHarness,
    TeamsHarness,
    WebhookHarness,
)
from tests.connectors.smtp import SmtpServer, TlsFiles, make_tls
from tests.fakes.sinks import SinkServer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

HTTP_HARNESSES: dict[str, Callable[[SinkServer, str, int], Harness]] = {
    "webhook": WebhookHarness,
    "slack": SlackHarness,
    "teams": TeamsHarness,
    "mattermost": MattermostHarness,
}
# "httpx": httpx's own transport; "cadence": the client the dispatcher builds (aiohttp
# underneath, connectors.transport); "aiohttp": plain httpx-aiohttp, whose exception
# mapping connectors/http.py must also survive (tested at the send() level only).
TRANSPORTS = ("httpx", "aiohttp", "cadence")
CONTRACT_TRANSPORTS = ("httpx", "cadence")
HTTP_IDS = [f"{name}-{transport}" for name in HTTP_HARNESSES for transport in CONTRACT_TRANSPORTS]


def _platform_harnesses() -> dict[str, PlatformHarnessFactory]:
    """Harnesses of the public platforms, each in its own module `harness_<platform>.py`
    exposing HARNESSES = {name: factory(request, transport, dead_port) -> Harness}."""
    found: dict[str, PlatformHarnessFactory] = {}
    for module in sorted(Path(__file__).parent.glob("harness_*.py")):
        found.update(importlib.import_module(f"tests.connectors.{module.stem}").HARNESSES)
    return found


PlatformHarnessFactory = Callable[[pytest.FixtureRequest, str, int], Harness]
PLATFORM_HARNESSES = _platform_harnesses()
PLATFORM_IDS = [f"{name}-{t}" for name in PLATFORM_HARNESSES for t in CONTRACT_TRANSPORTS]
HTTP_IDS += PLATFORM_IDS
ALL_IDS = [*HTTP_IDS, "email"]


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    directory: Path = tmp_path_factory.mktemp("tls")
    return make_tls(directory)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=ALL_IDS)
def harness(request: pytest.FixtureRequest) -> Harness:
    """One connector against its fake platform. Parametrise indirectly to narrow the set."""
    ident = str(request.param)
    if ident == "email":
        return EmailHarness(request.getfixturevalue("smtp_server"), closed_port())
    name, transport = ident.split("-")
    if name in PLATFORM_HARNESSES:
        return PLATFORM_HARNESSES[name](request, transport, closed_port())
    return HTTP_HARNESSES[name](request.getfixturevalue("sink"), transport, closed_port())
