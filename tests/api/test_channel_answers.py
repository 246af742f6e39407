"""Channel tests answer in Cadence's words (never a foreign server's), stored secrets
can't be walked out to a new destination, and readers don't see webhook URLs whole."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.channels.models import Channel
from app.clock import FrozenClock
from app.config import Settings
from app.crypto import CredentialBox
from app.db import transaction
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from tests.connectors.smtp import SmtpServer
from tests.fakes.sinks import SinkServer, ok
from tests.helpers import API, LATER, locs, objective, scheduled_post

MARKER = "ZZMARKER"


class ChattyServer:
    """A TCP server on 127.0.0.1 that says things a check must never repeat: on each
    connection it sends `greeting` (a banner), then answers every line it receives
    with `reply`. Stands for any service an admin could point a channel at."""

    def __init__(self, greeting: bytes, reply: bytes) -> None:
        self.greeting = greeting
        self.reply = reply
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ChattyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2)
            try:
                if self.greeting:
                    conn.sendall(self.greeting)
                while data := conn.recv(65536):
                    if b"\n" in data:
                        conn.sendall(self.reply)
            except OSError:
                return


def http_answer(status: str, body: str) -> bytes:
    payload = body.encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Debug: {MARKER}-header\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


HTTP_ANSWERS = {
    "teapot": (b"", http_answer("418 I'm a teapot", f"{MARKER} body text")),
    "json-401": (
        b"",
        http_answer("401 Unauthorized", f'{{"error":"{MARKER}","message":"{MARKER}"}}'),
    ),
    "json-400": (
        b"",
        http_answer("400 Bad Request", f'{{"error":{{"message":"{MARKER}","code":190}}}}'),
    ),
    "server-error": (b"", http_answer("503 Service Unavailable", f"{MARKER} down")),
    "ssh-banner": (f"SSH-2.0-{MARKER}\r\n".encode(), f"{MARKER} protocol mismatch\r\n".encode()),
}


def platform_body(platform: str, base: str) -> dict[str, Any]:
    bodies: dict[str, dict[str, Any]] = {
        "webhook": {"audience": "internal", "config": {"url": f"{base}/hook"}},
        "slack": {"credentials": {"webhook_url": f"{base}/services/T/B/x"}},
        "teams": {"credentials": {"webhook_url": f"{base}/workflows/x"}},
        "mattermost": {"credentials": {"webhook_url": f"{base}/hooks/x"}},
        "x": {
            "config": {"api_base": base},
            "credentials": {
                "consumer_key": "ck",
                "consumer_secret": "cs",
                "access_token": "at",
                "access_token_secret": "ats",
            },
        },
        "facebook": {
            "config": {"page_id": "123", "api_base": base},
            "credentials": {"page_access_token": "token"},
        },
        "flickr": {
            "config": {"user_nsid": "1@N00", "api_base": base},
            "credentials": {
                "consumer_key": "k",
                "consumer_secret": "s",
                "oauth_token": "t",
                "oauth_token_secret": "ts",
            },
        },
        "yammer": {
            "config": {"group_id": "1", "api_base": base},
            "credentials": {"access_token": "t"},
        },
        "youtube": {
            "config": {"api_base": base, "token_url": f"{base}/token"},
            "credentials": {
                "client_id": "c",
                "client_secret": "s",
                "refresh_token": "r",
                "access_token": "a",
            },
        },
    }
    return {"name": f"{platform} probe", "platform": platform, **bodies[platform]}


def make_channel(client: TestClient, admin: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post(f"{API}/channels", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("answer", list(HTTP_ANSWERS))
@pytest.mark.parametrize(
    "platform",
    ["webhook", "slack", "teams", "mattermost", "x", "facebook", "flickr", "yammer", "youtube"],
)
def test_a_channel_test_repeats_nothing_a_foreign_server_says(
    client: TestClient, admin: dict[str, str], platform: str, answer: str
) -> None:
    greeting, reply = HTTP_ANSWERS[answer]
    with ChattyServer(greeting, reply) as server:
        channel = make_channel(
            client, admin, platform_body(platform, f"http://127.0.0.1:{server.port}")
        )

        response = client.post(f"{API}/channels/{channel}/test", headers=admin)

        assert response.status_code == 200, response.text
        assert server.connections >= 1  # the server was asked
        assert MARKER not in response.text
        assert "418" not in response.text and "503" not in response.text
        fetched = client.get(f"{API}/channels/{channel}", headers=admin)
        assert MARKER not in fetched.text  # nor in the status reason


@pytest.mark.parametrize(
    ("greeting", "reply"),
    [
        (f"220 {MARKER} ESMTP\r\n".encode(), f"502 {MARKER} what\r\n".encode()),
        (f"554 {MARKER} go away\r\n".encode(), b""),
        (f"SSH-2.0-{MARKER}\r\n".encode(), f"{MARKER}\r\n".encode()),
        (b"", b""),  # says nothing at all
    ],
)
def test_an_email_channel_test_repeats_no_banner(
    client: TestClient, admin: dict[str, str], greeting: bytes, reply: bytes
) -> None:
    with ChattyServer(greeting, reply) as server:
        body = {
            "name": "Mail probe",
            "platform": "email",
            "config": {
                "host": "127.0.0.1",
                "port": server.port,
                "security": "none",
                "from_address": "comms@example.org",
                "to_addresses": ["staff@example.org"],
                "timeout": 1,
            },
            "credentials": {"username": "u", "password": "p"},
        }
        channel = make_channel(client, admin, body)

        response = client.post(f"{API}/channels/{channel}/test", headers=admin)

        assert response.status_code == 200, response.text
        assert response.json()["ok"] is False
        assert MARKER not in response.text


def test_an_unreachable_server_is_named_by_host(client: TestClient, admin: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = make_channel(client, admin, platform_body("webhook", f"http://127.0.0.1:{port}"))

    result = client.post(f"{API}/channels/{channel}/test", headers=admin).json()

    assert result == {"ok": False, "detail": "could not connect to 127.0.0.1", "status": "active"}


def test_credentials_that_cannot_be_decrypted_ask_to_be_entered_again(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    channel = make_channel(client, admin, platform_body("yammer", "https://yammer.example.org"))
    with transaction(runtime.sessions) as session:
        row = session.get(Channel, channel)
        assert row is not None
        row.credentials_encrypted = CredentialBox(["another key"]).seal({"access_token": "t"})

    response = client.post(f"{API}/channels/{channel}/test", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["ok"] is False
    assert "re-enter the credentials" in response.json()["detail"]
    listed = client.get(f"{API}/channels", headers=admin)
    assert listed.status_code == 200
    # Moving it without new credentials is refused; with them, it works again.
    patched = client.patch(
        f"{API}/channels/{channel}", json={"credentials": {"access_token": "new"}}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["credential_fields"] == ["access_token"]


def test_stored_settings_that_no_longer_fit_are_an_answer_not_an_error(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    channel = make_channel(client, admin, platform_body("webhook", "https://hooks.example.org"))
    with transaction(runtime.sessions) as session:
        row = session.get(Channel, channel)
        assert row is not None
        row.config = {"url": "ftp://hooks.example.org/hook"}

    response = client.post(f"{API}/channels/{channel}/test", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["ok"] is False
    detail = response.json()["detail"]
    assert detail.startswith("the channel's settings are no longer valid: url: ")
    assert detail.endswith("; update them")


def test_a_stored_ca_file_is_ignored(
    client: TestClient, admin: dict[str, str], runtime: Runtime, smtp_server: SmtpServer
) -> None:
    body = {
        "name": "Mail",
        "platform": "email",
        "config": {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "security": "none",
            "from_address": "comms@example.org",
            "to_addresses": ["staff@example.org"],
        },
    }
    refused = client.post(
        f"{API}/channels",
        json={**body, "config": {**body["config"], "ca_file": "/etc/passwd"}},
        headers=admin,
    )
    assert refused.status_code == 422
    assert locs(refused) == ["body.config.ca_file"]
    channel = make_channel(client, admin, body)
    with transaction(runtime.sessions) as session:
        row = session.get(Channel, channel)
        assert row is not None
        row.config = {**row.config, "ca_file": "/nonexistent/ca.pem"}  # from an older version

    result = client.post(f"{API}/channels/{channel}/test", headers=admin).json()

    assert result["ok"] is True, result


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


# -- walking credentials out -----------------------------------------------------------


X_CREDENTIALS = {
    "consumer_key": "ck",
    "consumer_secret": "cs-SECRET",
    "access_token": "at",
    "access_token_secret": "ats-SECRET",
}
EMAIL_CONFIG = {
    "host": "smtp.example.org",
    "from_address": "comms@example.org",
    "to_addresses": ["staff@example.org"],
}
WALKS = [
    ("x", {}, X_CREDENTIALS, {"api_base": "https://evil.example.net"}),
    ("x", {}, X_CREDENTIALS, {"upload_base": "https://evil.example.net"}),
    (
        "webhook",
        {"url": "https://hooks.example.org/a"},
        {"signing_secret": "SECRET"},
        {"url": "https://evil.example.net/a"},
    ),
    ("email", EMAIL_CONFIG, {"username": "u", "password": "SECRET"}, {"host": "evil.example.net"}),
    ("email", EMAIL_CONFIG, {"username": "u", "password": "SECRET"}, {"port": 2525}),
    ("email", EMAIL_CONFIG, {"username": "u", "password": "SECRET"}, {"security": "none"}),
    (
        "youtube",
        {},
        {"client_id": "c", "client_secret": "SECRET", "refresh_token": "SECRET-r"},
        {"token_url": "https://evil.example.net/token"},
    ),
    (
        "flickr",
        {"user_nsid": "1@N00"},
        {
            "consumer_key": "k",
            "consumer_secret": "SECRET",
            "oauth_token": "t",
            "oauth_token_secret": "SECRET",
        },
        {"upload_base": "https://evil.example.net"},
    ),
]


@pytest.mark.parametrize(("platform", "config", "credentials", "change"), WALKS)
def test_moving_a_destination_needs_the_credentials_again(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    platform: str,
    config: dict[str, Any],
    credentials: dict[str, Any],
    change: dict[str, Any],
) -> None:
    body = {"name": "Walk", "platform": platform, "config": config, "credentials": credentials}
    if platform == "webhook":
        body["audience"] = "internal"
    channel = make_channel(client, admin, body)
    stored_before = _sealed(runtime, channel)

    walked = client.patch(f"{API}/channels/{channel}", json={"config": change}, headers=admin)

    assert walked.status_code == 422, walked.text
    assert locs(walked) == ["body.credentials"]
    assert f"config.{next(iter(change))}" in walked.json()["detail"][0]["msg"]
    assert _sealed(runtime, channel) == stored_before
    fetched = client.get(f"{API}/channels/{channel}", headers=admin).json()
    assert all(fetched["config"].get(k) != v for k, v in change.items())

    # With the credentials in the same request, the move is fine, and only the
    # credentials sent are stored (nothing stored before follows along).
    moved = client.patch(
        f"{API}/channels/{channel}",
        json={"config": change, "credentials": credentials},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert runtime.box.open(_sealed(runtime, channel)) == credentials


def test_other_changes_keep_the_stored_credentials(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    channel = make_channel(
        client,
        admin,
        {"name": "X", "platform": "x", "config": {"username": "old"}, "credentials": X_CREDENTIALS},
    )

    renamed = client.patch(
        f"{API}/channels/{channel}",
        json={"name": "X main", "config": {"username": "new"}},
        headers=admin,
    )

    assert renamed.status_code == 200, renamed.text
    assert runtime.box.open(_sealed(runtime, channel)) == X_CREDENTIALS


def test_a_walk_out_attempt_sends_nothing_to_the_new_host(
    client: TestClient, admin: dict[str, str]
) -> None:
    with SinkServer() as old, SinkServer() as new:
        old.answer_always(ok())
        channel = make_channel(
            client,
            admin,
            {
                "name": "Hook",
                "platform": "webhook",
                "audience": "internal",
                "config": {"url": old.url_for("/hook")},
                "credentials": {"signing_secret": "SECRET"},
            },
        )
        client.patch(
            f"{API}/channels/{channel}", json={"config": {"url": new.url_for("/x")}}, headers=admin
        )

        client.post(f"{API}/channels/{channel}/test", headers=admin)

        assert new.requests == []
        assert len(old.requests) == 1


def _sealed(runtime: Runtime, channel_id: str) -> str:
    with transaction(runtime.sessions) as session:
        row = session.get(Channel, channel_id)
        assert row is not None
        return row.credentials_encrypted


# -- who sees webhook URLs ---------------------------------------------------------------


SECRET_URL = "https://hooks.example.org/intranet/T0KEN-in-the-path?sig=S1GNATURE"


def test_readers_see_only_the_scheme_and_host_of_url_settings(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str], editor: dict[str, str]
) -> None:
    channel = make_channel(
        client,
        admin,
        {
            "name": "Hook",
            "platform": "webhook",
            "audience": "internal",
            "config": {"url": SECRET_URL},
        },
    )

    for headers in (viewer, editor):
        one = client.get(f"{API}/channels/{channel}", headers=headers)
        listed = client.get(f"{API}/channels", headers=headers)
        assert one.json()["config"]["url"] == "https://hooks.example.org/…"
        for text in (one.text, listed.text):
            assert "T0KEN" not in text and "S1GNATURE" not in text
    assert client.get(f"{API}/channels/{channel}", headers=admin).json()["config"]["url"] == (
        SECRET_URL
    )


# -- the allow list --------------------------------------------------------------------


def test_a_name_the_allow_list_covers_is_delivered_to(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    """CADENCE_OUTBOUND_ALLOW=127.0.0.1 (the suite's): `localhost` is saved and reached."""
    with SinkServer() as sink:
        sink.answer_always(ok())
        channel = make_channel(
            client, admin, platform_body("webhook", f"http://localhost:{sink.port}")
        )
        events = objective(client, admin)
        post = scheduled_post(client, admin, events["id"], [channel], when=LATER)
        clock.set(datetime(2026, 11, 24, 10, 30, tzinfo=UTC))

        asyncio.run(_drain(runtime))

        [delivery] = client.get(f"{API}/posts/{post['id']}", headers=admin).json()["deliveries"]
        assert delivery["status"] == "published", delivery
        assert len(sink.requests) == 1


def test_the_allow_list_setting_names_a_bad_entry() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, outbound_allow="10.0.0.5, 10.0.0.0/33")  # type: ignore[call-arg]
    assert "outbound_allow" in str(raised.value)
    assert "10.0.0.0/33" in str(raised.value)
    policy = Settings(
        _env_file=None, outbound_allow=" 10.0.0.5 ,hooks.corp.example"
    ).outbound_policy()  # type: ignore[call-arg]
    assert policy.refused_literal("10.0.0.5") is None
    assert policy.refused_literal("10.0.0.6") is not None
    assert policy.allows_name("HOOKS.corp.example")


async def _drain(runtime: Runtime) -> None:
    dispatcher = Dispatcher(runtime)
    try:
        await dispatcher.drain()
    finally:
        await dispatcher.http.aclose()
