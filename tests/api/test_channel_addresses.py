"""Channels may not point at non-public addresses unless CADENCE_OUTBOUND_ALLOW says so.

These tests run with an empty allow list (the default), unlike the rest of the suite,
which allows 127.0.0.1 for its fake platforms.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.config import Settings
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from tests.fakes.sinks import SinkServer, ok
from tests.helpers import API, LATER, locs, objective, row_counts, scheduled_post

REFUSED_HOSTS = [
    "127.0.0.1",
    "0x7f000001",
    "2130706433",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "169.254.169.254",
    "10.0.0.5",
    "100.64.1.1",
    "[fc00::1]",
    "224.0.0.1",
    "0.0.0.0",
    "localhost",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"outbound_allow": ""})


def webhook_body(url: str) -> dict[str, Any]:
    return {
        "name": "Intranet hook",
        "platform": "webhook",
        "audience": "internal",
        "config": {"url": url},
        "credentials": {"signing_secret": "hook-signing-secret"},
    }


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_webhook_url_at_a_refused_address_is_422(
    client: TestClient, admin: dict[str, str], runtime: Runtime, host: str
) -> None:
    before = row_counts(runtime)

    response = client.post(
        f"{API}/channels", json=webhook_body(f"http://{host}:8080/hook"), headers=admin
    )

    assert response.status_code == 422, response.text
    assert locs(response) == ["body.config.url"]
    assert "see CADENCE_OUTBOUND_ALLOW" in response.json()["detail"][0]["msg"]
    assert row_counts(runtime) == before


@pytest.mark.parametrize(
    ("platform", "body", "loc"),
    [
        (
            "email",
            {
                "config": {
                    "host": "0x7f000001",
                    "from_address": "comms@example.org",
                    "to_addresses": ["staff@example.org"],
                },
            },
            "body.config.host",
        ),
        (
            "slack",
            {"credentials": {"webhook_url": "http://169.254.169.254/latest/meta-data"}},
            "body.credentials.webhook_url",
        ),
        (
            "x",
            {
                "config": {"api_base": "http://[::1]:8080"},
                "credentials": {
                    "consumer_key": "ck",
                    "consumer_secret": "cs",
                    "access_token": "at",
                    "access_token_secret": "ats",
                },
            },
            "body.config.api_base",
        ),
        (
            "youtube",
            {
                "config": {"token_url": "http://10.0.0.5/token"},
                "credentials": {"client_id": "c", "client_secret": "s", "refresh_token": "r"},
            },
            "body.config.token_url",
        ),
    ],
)
def test_every_destination_field_is_checked(
    client: TestClient, admin: dict[str, str], platform: str, body: dict[str, Any], loc: str
) -> None:
    response = client.post(
        f"{API}/channels", json={"name": "Somewhere", "platform": platform, **body}, headers=admin
    )

    assert response.status_code == 422, response.text
    assert locs(response) == [loc]


def test_patching_to_a_refused_address_is_422_and_changes_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    made = client.post(
        f"{API}/channels", json=webhook_body("https://hooks.example.org/a"), headers=admin
    )
    assert made.status_code == 201, made.text

    response = client.patch(
        f"{API}/channels/{made.json()['id']}",
        json={"config": {"url": "http://[::ffff:7f00:1]/"}, "credentials": {}},
        headers=admin,
    )

    assert response.status_code == 422, response.text
    assert locs(response) == ["body.config.url"]
    fetched = client.get(f"{API}/channels/{made.json()['id']}", headers=admin).json()
    assert fetched["config"]["url"] == "https://hooks.example.org/a"


def test_a_public_address_is_accepted(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        f"{API}/channels", json=webhook_body("http://93.184.215.14/hook"), headers=admin
    )

    assert response.status_code == 201, response.text


def test_a_name_that_resolves_to_loopback_fails_the_delivery_with_the_reason(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    """`localhost` is refused as a name when saved; a name is only known to be loopback
    once resolved, so `localhost.` with a trailing dot stands in for any such name here."""
    with SinkServer() as sink:
        sink.answer(ok())
        made = client.post(
            f"{API}/channels",
            json=webhook_body(f"http://localhost.:{sink.port}/hook"),
            headers=admin,
        )
        assert made.status_code == 422  # the trailing dot does not hide localhost
        channel = _store_webhook(runtime, f"http://localhost:{sink.port}/hook")
        events = objective(client, admin)
        post = scheduled_post(client, admin, events["id"], [channel], when=LATER)
        clock.set(datetime(2026, 11, 24, 10, 30, tzinfo=UTC))

        asyncio.run(_drain(runtime))

        fetched = client.get(f"{API}/posts/{post['id']}", headers=admin).json()
        [delivery] = fetched["deliveries"]
        assert delivery["status"] == "failed", delivery
        assert delivery["last_error"] in (
            "address 127.0.0.1 is not allowed; see CADENCE_OUTBOUND_ALLOW",
            "address ::1 is not allowed; see CADENCE_OUTBOUND_ALLOW",
        )
        assert sink.requests == []


def test_the_channel_test_says_the_address_is_not_allowed(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    with SinkServer() as sink:
        channel = _store_webhook(runtime, f"http://localhost:{sink.port}/hook")

        result = client.post(f"{API}/channels/{channel}/test", headers=admin).json()

        assert result["ok"] is False
        assert "is not allowed; see CADENCE_OUTBOUND_ALLOW" in result["detail"]
        assert sink.requests == []


def _store_webhook(runtime: Runtime, url: str) -> str:
    """A channel stored as an older version (or a database edit) would have left it."""
    from app.channels.models import Channel
    from app.db import transaction

    with transaction(runtime.sessions) as session:
        channel = Channel(
            name="Old hook",
            platform="webhook",
            audience="internal",
            config={"url": url},
            credentials_encrypted=runtime.box.seal({}),
            receives_alerts=False,
            status="active",
            created_at=runtime.clock.now(),
            updated_at=runtime.clock.now(),
        )
        session.add(channel)
        session.flush()
        return channel.id


async def _drain(runtime: Runtime) -> None:
    dispatcher = Dispatcher(runtime)
    try:
        await dispatcher.drain()
    finally:
        await dispatcher.http.aclose()
