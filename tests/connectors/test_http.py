"""connectors/http.py: transport failures and common statuses mapped to error kinds."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport

from connectors.base import Ambiguous, AuthExpired, PublishError, RateLimited, Transient
from connectors.http import (
    REDACTED,
    USER_AGENT,
    check_common_status,
    excerpt,
    parse_retry_after,
    redact,
    retry_after,
    safe_url,
    send,
)
from connectors.transport import make_client as production_client
from tests.connectors.conftest import NOW, closed_port
from tests.connectors.harnesses import FAKES_ALLOWED, make_client
from tests.fakes.sinks import SinkServer, drop, hang, text_answer

SECRET_PATH = "/services/T0/B0/pathSecret9f3a"
SECRET_QUERY = "sig=querySecret77c1"
SECRET_HEADER = "Bearer headerSecret-5b2e"


def _send(
    transport: str, url: str, *, timeout: float = 2.0, **kwargs: object
) -> httpx.Response | PublishError:
    async def go() -> httpx.Response | PublishError:
        async with make_client(transport, timeout) as http:
            try:
                return await send(http, "POST", url, content=b"{}", **kwargs)  # type: ignore[arg-type]
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def _assert_no_secrets(error: BaseException, url: str) -> None:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for text in texts:
        for secret in (url, SECRET_PATH, "pathSecret9f3a", "querySecret77c1", "headerSecret-5b2e"):
            assert secret not in text


# -- transport failures --------------------------------------------------------------


def test_an_answer_is_returned_whatever_its_status(sink: SinkServer, transport: str) -> None:
    sink.answer(text_answer(418, "teapot"))

    response = _send(transport, sink.url_for("/x"))

    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.text) == (418, "teapot")


def test_connection_refused_is_transient(transport: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}{SECRET_PATH}?{SECRET_QUERY}"

    outcome = _send(transport, url, headers={"Authorization": SECRET_HEADER})

    assert isinstance(outcome, Transient)
    assert "nothing was sent" in outcome.message
    _assert_no_secrets(outcome, url)


def test_no_free_connection_in_the_pool_is_transient(sink: SinkServer, transport: str) -> None:
    """The pool's one connection is busy with a request that hangs: the second request
    times out waiting for it, before anything is sent."""
    sink.answer(hang(5))
    url = sink.url_for(SECRET_PATH)

    async def go() -> list[BaseException | httpx.Response]:
        limits = httpx.Limits(max_connections=1)
        timeout = httpx.Timeout(2.0, read=0.3, pool=0.1)
        if transport == "cadence":
            client = production_client(timeout=2.0, max_connections=1, outbound=FAKES_ALLOWED)
            client.timeout = timeout
        elif transport == "aiohttp":
            client = httpx.AsyncClient(timeout=timeout, transport=AiohttpTransport(limits=limits))
        else:
            client = httpx.AsyncClient(timeout=timeout, limits=limits)
        async with client as http:
            first = asyncio.ensure_future(send(http, "POST", url, content=b"1"))
            while not sink.requests:
                await asyncio.sleep(0.01)
            second = await asyncio.gather(
                send(http, "POST", url, content=b"2"), return_exceptions=True
            )
            return [*second, *(await asyncio.gather(first, return_exceptions=True))]

    second, first = asyncio.run(go())

    assert isinstance(second, Transient), second
    assert isinstance(first, Ambiguous), first
    assert [r.body for r in sink.requests] == [b"1"]
    _assert_no_secrets(second, url)


def test_timeout_after_sending_is_ambiguous(sink: SinkServer, transport: str) -> None:
    sink.answer(hang(5))
    url = sink.url_for(SECRET_PATH) + "?" + SECRET_QUERY

    outcome = _send(transport, url, timeout=0.2, headers={"Authorization": SECRET_HEADER})

    assert isinstance(outcome, Ambiguous)
    assert len(sink.requests) == 1
    _assert_no_secrets(outcome, url)


def test_connection_closed_before_the_answer_is_ambiguous(sink: SinkServer, transport: str) -> None:
    """httpx-aiohttp reports this as httpx.ConnectTimeout; it is not "nothing sent"."""
    sink.answer(drop())
    url = sink.url_for(SECRET_PATH) + "?" + SECRET_QUERY

    outcome = _send(transport, url, headers={"Authorization": SECRET_HEADER})

    assert isinstance(outcome, Ambiguous)
    assert len(sink.requests) == 1
    _assert_no_secrets(outcome, url)


@pytest.fixture
def garbage_server() -> Iterator[int]:
    """Reads a request, answers bytes that are not HTTP, hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"garbage here\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    server.close()


def test_a_garbled_answer_is_ambiguous(garbage_server: int, transport: str) -> None:
    """aiohttp's ClientResponseError escapes httpx-aiohttp unmapped, URL and headers in it."""
    url = f"http://127.0.0.1:{garbage_server}{SECRET_PATH}?{SECRET_QUERY}"

    outcome = _send(transport, url, headers={"Authorization": SECRET_HEADER})

    assert isinstance(outcome, Ambiguous)
    _assert_no_secrets(outcome, url)


def test_httpx_request_log_shows_no_path_or_query(
    sink: SinkServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = sink.url_for(SECRET_PATH) + "?" + SECRET_QUERY

    _send("httpx", url)

    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert f'HTTP Request: POST http://127.0.0.1:{sink.port}/{REDACTED} "HTTP/1.1 200 OK"' in lines
    assert "pathSecret9f3a" not in caplog.text
    assert "querySecret77c1" not in caplog.text


def test_safe_url_keeps_only_scheme_host_and_port() -> None:
    assert (
        safe_url("https://hooks.slack.com/services/T/B/x?y=1")
        == f"https://hooks.slack.com/{REDACTED}"
    )
    assert safe_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/"
    assert safe_url("https://user:pw@example.org/a") == f"https://example.org/{REDACTED}"


# -- statuses ------------------------------------------------------------------------


def _response(status: int, headers: dict[str, str] | None = None, body: str = "") -> httpx.Response:
    return httpx.Response(status, headers=headers, text=body)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 301, 400, 403, 404, 409, 410, 422])
def test_statuses_left_to_the_platform_code(status: int) -> None:
    check_common_status(_response(status), platform="Test", now=NOW)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_5xx_is_transient(status: int) -> None:
    with pytest.raises(Transient, match=f"Test answered HTTP {status}"):
        check_common_status(_response(status, body="upstream down"), platform="Test", now=NOW)


def test_401_is_auth_expired_with_the_body() -> None:
    with pytest.raises(AuthExpired, match="token revoked"):
        check_common_status(_response(401, body="token revoked"), platform="Test", now=NOW)


def test_429_with_seconds() -> None:
    with pytest.raises(RateLimited) as caught:
        check_common_status(_response(429, {"Retry-After": "120"}), platform="Test", now=NOW)
    assert caught.value.retry_at == NOW + timedelta(seconds=120)


def test_429_with_an_http_date() -> None:
    headers = {"Retry-After": "Mon, 23 Nov 2026 09:10:30 GMT"}
    with pytest.raises(RateLimited) as caught:
        check_common_status(_response(429, headers), platform="Test", now=NOW)
    assert caught.value.retry_at == datetime(2026, 11, 23, 9, 10, 30, tzinfo=UTC)


def test_429_without_retry_after_leaves_the_wait_to_the_scheduler() -> None:
    with pytest.raises(RateLimited) as caught:
        check_common_status(_response(429), platform="Test", now=NOW)
    assert caught.value.retry_at is None


def test_status_messages_keep_secrets_out() -> None:
    body = "your hook https://hooks.example/hooks/abcSECRET is rate limited"
    with pytest.raises(Transient) as caught:
        check_common_status(_response(503, body=body), platform="Test", secrets=["abcSECRET"])
    assert "abcSECRET" not in caught.value.message
    assert REDACTED in caught.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", NOW),
        ("30", NOW + timedelta(seconds=30)),
        (" 7 ", NOW + timedelta(seconds=7)),
        ("1.5", NOW + timedelta(seconds=1.5)),
        ("-5", NOW),
        ("Mon, 23 Nov 2026 09:00:45 GMT", NOW + timedelta(seconds=45)),
        ("Sun, 22 Nov 2026 09:00:00 GMT", NOW),  # in the past: now
        ("Monday, 23-Nov-26 09:01:00 GMT", NOW + timedelta(minutes=1)),  # RFC 850
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(value: str, expected: datetime | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_absent_is_none() -> None:
    assert retry_after(httpx.Headers({}), now=NOW) is None
    assert retry_after(httpx.Headers({"retry-after": "3"}), now=NOW) == NOW + timedelta(seconds=3)


def test_retry_after_defaults_to_the_system_clock() -> None:
    before = datetime.now(UTC)
    when = parse_retry_after("60")
    assert when is not None and when - before >= timedelta(seconds=60)


def test_excerpt_and_redact() -> None:
    assert excerpt("a\n  b\tc") == "a b c"
    assert len(excerpt("x" * 1000)) == 200
    assert redact("key=abc123 and abc", ["abc123", None, ""]) == f"key={REDACTED} and abc"
    assert USER_AGENT == "Cadence/0.1"
