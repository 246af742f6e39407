"""The outbound policy: which addresses are refused, the allow list, and that every
transport (aiohttp, httpx's own, tweepy's requests, SMTP) connects to the address
that was checked, resolving the name once."""

from __future__ import annotations

import asyncio
import inspect
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from connectors.base import Permanent, PublishError, PublishResult
from connectors.email import EmailConfig, EmailConnector, EmailCredentials
from connectors.http import ADDRESS_NOT_ALLOWED, send
from connectors.outbound import (
    AddressNotAllowed,
    OutboundPolicy,
    literal_address,
    parse_allow_list,
)
from connectors.registry import PLATFORMS
from connectors.requests_policy import PolicyAdapter
from connectors.transport import make_client
from connectors.webhooks import WebhookConfig, WebhookConnector, WebhookCredentials
from connectors.x import XConfig, XConnector, XCredentials
from tests.connectors.harnesses import REQUEST
from tests.connectors.media_files import make_image
from tests.connectors.smtp import SmtpServer
from tests.fakes.sinks import SinkServer, ok

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "0x7f000001",
    "2130706433",
    "127.1",
    "0177.0.0.1",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.5",
    "169.254.169.254",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "100.64.1.1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "224.0.0.1",
    "ff02::1",
    "0.0.0.0",
    "::",
    "240.0.0.1",
    "255.255.255.255",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:5::1",  # 6to4 of 10.0.0.5
    "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"]


@pytest.mark.parametrize("host", REFUSED)
def test_non_public_addresses_are_refused(host: str) -> None:
    policy = OutboundPolicy()

    assert policy.refused_literal(host) is not None
    with pytest.raises(AddressNotAllowed) as raised:
        policy.resolve_allowed(host, 443)
    assert "is not allowed; see CADENCE_OUTBOUND_ALLOW" in raised.value.message


@pytest.mark.parametrize("host", PUBLIC)
def test_public_addresses_pass(host: str) -> None:
    policy = OutboundPolicy()

    assert policy.refused_literal(host) is None
    assert [r.address for r in policy.resolve_allowed(host, 443)] == [str(literal_address(host))]


def test_legacy_spellings_are_read_as_the_address_they_mean() -> None:
    assert str(literal_address("0x7f000001")) == "127.0.0.1"
    assert str(literal_address("2130706433")) == "127.0.0.1"
    assert str(literal_address("127.1")) == "127.0.0.1"
    assert str(literal_address("[::1]")) == "::1"
    assert literal_address("cafe.be") is None
    assert literal_address("hooks.example.org") is None


def test_localhost_is_refused_by_name_when_saved() -> None:
    assert OutboundPolicy().refused_literal("localhost") is not None
    assert OutboundPolicy().refused_literal("LOCALHOST.") is not None
    assert OutboundPolicy(["127.0.0.1"]).refused_literal("localhost") is None


def test_the_allow_list_opens_ranges_and_names() -> None:
    policy = OutboundPolicy(["10.0.0.0/24", "::1", "mattermost.corp.example"])

    assert policy.refused_literal("10.0.0.5") is None
    assert policy.refused_literal("::ffff:10.0.0.5") is None  # the mapped form too
    assert policy.refused_literal("10.0.1.5") is not None
    assert policy.refused_literal("::1") is None
    assert policy.refused_literal("127.0.0.1") is not None
    assert policy.refused_literal("Mattermost.Corp.Example") is None


def test_an_allowed_name_may_resolve_to_private_addresses() -> None:
    answers = {"mattermost.corp.example": ["10.0.0.5"], "other.corp.example": ["10.0.0.6"]}
    policy = OutboundPolicy(["mattermost.corp.example"], getaddrinfo=fake_dns(answers))

    assert [r.address for r in policy.resolve_allowed("mattermost.corp.example", 443)] == [
        "10.0.0.5"
    ]
    with pytest.raises(AddressNotAllowed, match=r"address 10\.0\.0\.6 is not allowed"):
        policy.resolve_allowed("other.corp.example", 443)


def test_only_the_allowed_addresses_of_a_name_are_used() -> None:
    policy = OutboundPolicy(getaddrinfo=fake_dns({"mixed.test": ["10.0.0.5,93.184.215.14"]}))

    assert [r.address for r in policy.resolve_allowed("mixed.test", 443)] == ["93.184.215.14"]


def test_the_allow_list_setting_is_checked() -> None:
    assert parse_allow_list(" 10.0.0.5, mattermost.corp.example ,,192.168.0.0/16") == [
        "10.0.0.5",
        "mattermost.corp.example",
        "192.168.0.0/16",
    ]
    with pytest.raises(ValueError, match="neither"):
        parse_allow_list("10.0.0.0/33")
    with pytest.raises(ValueError, match="neither"):
        parse_allow_list("http://10.0.0.5/")


# -- the transports ----------------------------------------------------------------------


def fake_dns(
    answers: dict[str, list[str]], calls: list[str] | None = None
) -> Callable[..., list[tuple[Any, ...]]]:
    """A getaddrinfo answering from `answers` (a list per name: one answer per call,
    the last repeating; an answer lists its addresses with commas), recording each
    name asked."""

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if calls is not None:
            calls.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        queue = answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answer.split(",")
        ]

    return getaddrinfo


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


def request_via(transport: str, policy: OutboundPolicy, url: str) -> httpx.Response | Exception:
    async def go() -> httpx.Response | Exception:
        async with make_client(
            timeout=2.0, max_connections=2, outbound=policy, fast=transport == "aiohttp"
        ) as http:
            try:
                return await send(http, "POST", url, content=b"{}")
            except PublishError as exc:
                return exc

    return asyncio.run(go())


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_name_rebound_after_the_check_is_not_asked_again(
    transport: str, sink: SinkServer
) -> None:
    """The first answer is checked and used; a second lookup (which would say 10.0.0.5)
    never happens, so the connection goes to the checked address."""
    calls: list[str] = []
    dns = fake_dns({"rebind.test": ["127.0.0.1", "10.0.0.5"]}, calls)
    policy = OutboundPolicy(["127.0.0.1"], getaddrinfo=dns)
    sink.answer(ok())

    answer = request_via(transport, policy, f"http://rebind.test:{sink.port}/hook")

    assert isinstance(answer, httpx.Response), answer
    assert answer.status_code == 200
    assert calls == ["rebind.test"]
    assert [r.path for r in sink.requests] == ["/hook"]
    assert sink.requests[0].header("host") == f"rebind.test:{sink.port}"


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    "url", ["http://localhost:{port}/hook", "http://127.0.0.1:{port}/hook", "http://[::1]:{port}/"]
)
def test_refused_addresses_fail_permanently_before_connecting(
    transport: str, url: str, sink: SinkServer
) -> None:
    answer = request_via(transport, OutboundPolicy(), url.format(port=sink.port))

    assert isinstance(answer, Permanent), answer
    assert answer.code == ADDRESS_NOT_ALLOWED
    assert "is not allowed; see CADENCE_OUTBOUND_ALLOW" in answer.message
    assert sink.requests == []


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_localhost_is_reached_when_allowed(transport: str, sink: SinkServer) -> None:
    sink.answer(ok())

    answer = request_via(
        transport, OutboundPolicy(["127.0.0.1"]), f"http://localhost:{sink.port}/hook"
    )

    assert isinstance(answer, httpx.Response), answer
    assert len(sink.requests) == 1


def test_a_webhook_delivery_to_a_refused_name_fails_with_the_reason(sink: SinkServer) -> None:
    async def go() -> PublishResult | PublishError:
        async with make_client(timeout=2.0, max_connections=2) as http:
            connector = WebhookConnector(
                WebhookConfig(url=f"http://localhost:{sink.port}/hook"),
                WebhookCredentials(),
                http,
            )
            try:
                return await connector.publish(REQUEST)
            except PublishError as exc:
                return exc

    outcome = asyncio.run(go())

    assert isinstance(outcome, Permanent)
    assert outcome.message in (
        "address 127.0.0.1 is not allowed; see CADENCE_OUTBOUND_ALLOW",
        "address ::1 is not allowed; see CADENCE_OUTBOUND_ALLOW",
    )
    assert sink.requests == []


def test_requests_sessions_connect_to_the_checked_address(sink: SinkServer) -> None:
    calls: list[str] = []
    dns = fake_dns({"rebind.test": ["127.0.0.1", "10.0.0.5"]}, calls)
    session = requests.Session()
    session.mount("http://", PolicyAdapter(OutboundPolicy(["127.0.0.1"], getaddrinfo=dns)))
    sink.answer(ok(), ok())

    first = session.get(f"http://rebind.test:{sink.port}/one", timeout=2)
    session.close()
    again = requests.Session()
    again.mount("http://", PolicyAdapter(OutboundPolicy(["127.0.0.1"], getaddrinfo=dns)))

    with pytest.raises(AddressNotAllowed, match=r"10\.0\.0\.5"):
        again.get(f"http://rebind.test:{sink.port}/two", timeout=2)
    assert first.status_code == 200
    assert calls == ["rebind.test", "rebind.test"]  # once per connection
    assert [r.path for r in sink.requests] == ["/one"]


def test_requests_sessions_refuse_loopback_without_the_allow_list(sink: SinkServer) -> None:
    session = requests.Session()
    session.mount("http://", PolicyAdapter(OutboundPolicy()))

    with pytest.raises(AddressNotAllowed):
        session.get(f"http://localhost:{sink.port}/", timeout=2)
    assert sink.requests == []


def email_connector(server: SmtpServer, host: str, policy: OutboundPolicy) -> EmailConnector:
    return EmailConnector(
        EmailConfig(
            host=host,
            port=server.port,
            security="none",
            from_address="comms@example.org",
            to_addresses=["staff@example.org"],
            timeout=2.0,
        ),
        EmailCredentials(),
        None,  # type: ignore[arg-type]
        outbound=policy,
    )


def publish_mail(connector: EmailConnector) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        try:
            return await connector.publish(REQUEST)
        except PublishError as exc:
            return exc

    return asyncio.run(go())


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])
def test_smtp_to_a_refused_address_is_refused(smtp_server: SmtpServer, host: str) -> None:
    outcome = publish_mail(email_connector(smtp_server, host, OutboundPolicy()))

    assert isinstance(outcome, Permanent), outcome
    assert outcome.code == ADDRESS_NOT_ALLOWED
    assert "is not allowed; see CADENCE_OUTBOUND_ALLOW" in outcome.message
    assert smtp_server.received == []


def test_smtp_connects_to_the_checked_address(smtp_server: SmtpServer) -> None:
    calls: list[str] = []
    dns = fake_dns({"mail.rebind.test": ["127.0.0.1", "10.0.0.5"]}, calls)
    policy = OutboundPolicy(["127.0.0.1"], getaddrinfo=dns)

    outcome = publish_mail(email_connector(smtp_server, "mail.rebind.test", policy))

    assert isinstance(outcome, PublishResult), outcome
    assert calls == ["mail.rebind.test"]
    assert len(smtp_server.received) == 1


def test_every_connector_takes_the_policy() -> None:
    for platform in PLATFORMS.values():
        accepts = inspect.signature(platform.connector.__init__).parameters
        assert "outbound" in accepts or "kwargs" in accepts, platform.name


@pytest.mark.parametrize("media", [False, True])
def test_x_through_tweepy_refuses_a_loopback_api_base(sink: SinkServer, media: bool) -> None:
    """tweepy's requests sessions follow the policy: the v2 call (Client) and the v1.1
    media upload (API, which wraps errors in its own exception) alike."""
    config = XConfig(username="cadence", api_base=f"http://localhost:{sink.port}")
    credentials = XCredentials(
        consumer_key="ck", consumer_secret="cs", access_token="at", access_token_secret="ats"
    )
    request = REQUEST if media else replace(REQUEST, media=())

    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient() as http:
            connector = XConnector(config, credentials, http, outbound=OutboundPolicy())
            try:
                return await connector.publish(request)
            except PublishError as exc:
                return exc

    with tempfile.TemporaryDirectory() as tmp:
        if media:
            request = replace(REQUEST, media=(make_image(Path(tmp)),))
        outcome = asyncio.run(go())

    assert isinstance(outcome, Permanent), outcome
    assert outcome.code == ADDRESS_NOT_ALLOWED
    assert sink.requests == []
