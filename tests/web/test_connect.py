"""Connecting accounts with one click, through the app against the fake X's real
authorization server: the flow, its safety (state, PKCE, replay, refusal), reconnect
in place, and a post going out through the new channel."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.channels.models import Channel, ChannelStatus
from app.config import Settings
from app.connect.models import ChannelToken, ConnectState
from app.connect.providers import PROVIDERS, rebase
from app.db import transaction
from app.posts.models import Delivery
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import make_token
from tests.fakes.x import CLIENT_ID, CLIENT_SECRET, USERNAME, FakeX
from tests.helpers import API, objective
from tests.web.test_pages import login, make_user

CALLBACK = "http://cadence.test/channels/connect/x/callback"


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_x: FakeX) -> Settings:
    return settings.model_copy(
        update={
            "x_client_id": CLIENT_ID,
            "x_client_secret": CLIENT_SECRET,
            "x_base_url": fake_x.url,
        }
    )


@pytest.fixture
def admin_web(client: TestClient, runtime: Runtime) -> TestClient:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    return client


def start(client: TestClient, path: str = "/channels/connect/x") -> str:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def come_back(client: TestClient, url: str) -> Any:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def channel_rows(runtime: Runtime) -> list[Channel]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Channel)))


def credentials_of(runtime: Runtime, channel_id: str) -> dict[str, Any]:
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        return runtime.box.open(channel.credentials_encrypted)


def connect_x(client: TestClient, fake_x: FakeX) -> str:
    back = fake_x.authorization.approve(start(client))
    landed = come_back(client, back)
    assert landed.status_code == 303, landed.text
    location = landed.headers["location"]
    assert location.startswith("/channels/") and location.endswith("?notice=connected")
    return location.split("/")[2].split("?")[0]


def test_the_channels_page_offers_connect_and_shows_each_redirect_uri(
    admin_web: TestClient,
) -> None:
    page = admin_web.get("/channels").text
    assert 'href="/channels/connect/x"' in page
    for platform in PROVIDERS:
        assert f"http://cadence.test/channels/connect/{platform}/callback" in page
    # Slack has no client id here: a how-to instead of a broken button.
    assert 'href="/channels/connect/slack"' not in page
    assert "CADENCE_SLACK_CLIENT_ID" in page


def test_the_authorization_request_carries_pkce_state_scopes_and_the_configured_redirect(
    admin_web: TestClient, fake_x: FakeX
) -> None:
    url = start(admin_web)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == fake_x.url + "/i/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"] == "tweet.read tweet.write users.read offline.access media.write"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 43 and len(query["code_challenge"]) == 43
    assert rebase("https://x.com/i/oauth2/authorize?a=1", fake_x.url) == (
        fake_x.url + "/i/oauth2/authorize?a=1"
    )


def test_connect_x_creates_the_channel_with_encrypted_tokens_and_it_publishes(
    admin_web: TestClient, fake_x: FakeX, runtime: Runtime
) -> None:
    channel_id = connect_x(admin_web, fake_x)
    (channel,) = channel_rows(runtime)
    assert channel.id == channel_id and channel.platform == "x"
    assert channel.config == {"username": USERNAME, "api_base": fake_x.url}
    access, refresh = fake_x.issued[0]
    assert access not in channel.credentials_encrypted
    assert credentials_of(runtime, channel_id) == {
        "access_token": access,
        "refresh_token": refresh,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    with runtime.sessions() as session:
        token = session.get(ChannelToken, channel_id)
        assert token is not None and token.access_expires_at is not None
    page = admin_web.get(f"/channels/{channel_id}?notice=connected")
    assert page.status_code == 200 and "The account is connected." in page.text

    # The token exchange authenticated the client (Basic) and sent the verifier.
    (exchange,) = [r for r in fake_x.requests_to("/2/oauth2/token")]
    assert (exchange.header("authorization") or "").startswith("Basic ")
    assert fake_x.authorization.refused_codes == []

    headers = {"Authorization": f"Bearer {make_token(runtime, Role.admin, 'boss@example.org')}"}
    created = admin_web.post(
        f"{API}/posts",
        json={
            "text": "Hello from a connected account",
            "channel_ids": [channel_id],
            "publish_now": True,
            "objective_ids": [objective(admin_web, headers)["id"]],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    drain(runtime)
    with runtime.sessions() as session:
        (delivery,) = session.scalars(select(Delivery))
        assert delivery.status == "published", delivery.last_error
    assert [t.text for t in fake_x.tweets] == ["Hello from a connected account"]
    assert fake_x.tweets[0].auth == "oauth2"


def drain(runtime: Runtime) -> None:
    async def go() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(go())


def test_a_replayed_callback_is_refused_and_creates_nothing(
    admin_web: TestClient, fake_x: FakeX, runtime: Runtime
) -> None:
    back = fake_x.authorization.approve(start(admin_web))
    assert come_back(admin_web, back).status_code == 303
    again = come_back(admin_web, back)
    assert again.status_code == 400
    assert "already used" in again.text
    assert len(channel_rows(runtime)) == 1


def test_a_refusal_a_forged_state_and_a_bad_code_show_a_page_and_create_nothing(
    admin_web: TestClient, fake_x: FakeX, runtime: Runtime
) -> None:
    denied = come_back(admin_web, fake_x.authorization.approve(start(admin_web), allow=False))
    assert denied.status_code == 400
    assert "did not allow Cadence" in denied.text

    forged = admin_web.get("/channels/connect/x/callback?code=code-1&state=made-up")
    assert forged.status_code == 400 and "not valid" in forged.text

    url = start(admin_web)
    state = parse_qs(urlsplit(url).query)["state"][0]
    bad = admin_web.get(f"/channels/connect/x/callback?code=not-a-code&state={state}")
    assert bad.status_code == 400
    assert "refused the sign-in" in bad.text
    assert "not-a-code" not in bad.text
    assert channel_rows(runtime) == []


def test_the_callback_must_come_back_to_the_session_that_started_it(
    admin_web: TestClient, fake_x: FakeX, runtime: Runtime
) -> None:
    back = fake_x.authorization.approve(start(admin_web))
    # Another admin's browser session (a login makes a new session secret).
    make_user(runtime, "other@example.org", Role.admin)
    admin_web.cookies.clear()
    assert login(admin_web, "other@example.org").status_code == 303
    answer = come_back(admin_web, back)
    assert answer.status_code == 400 and "started elsewhere" in answer.text
    assert channel_rows(runtime) == []


def test_a_state_expires_after_ten_minutes(
    admin_web: TestClient, fake_x: FakeX, runtime: Runtime, clock: Any
) -> None:
    back = fake_x.authorization.approve(start(admin_web))
    clock.advance(seconds=601)
    answer = come_back(admin_web, back)
    assert answer.status_code == 400 and "too long" in answer.text
    assert channel_rows(runtime) == []


def test_only_admins_connect(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "ed@example.org", Role.editor)
    assert login(client, "ed@example.org").status_code == 303
    assert client.get("/channels/connect/x", follow_redirects=False).status_code == 403
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ConnectState)) == 0


def test_reconnect_keeps_the_channel_id_and_the_refresh_token_when_none_comes_back(
    admin_web: TestClient, fake_x: FakeX, runtime: Runtime
) -> None:
    channel_id = connect_x(admin_web, fake_x)
    _, first_refresh = fake_x.issued[0]
    with transaction(runtime.sessions) as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        channel.status = ChannelStatus.needs_reconnect
    page = admin_web.get(f"/channels/{channel_id}").text
    assert f'href="/channels/{channel_id}/reconnect"' in page
    # This time X's answer carries no refresh token.
    from tests.fakes.sinks import json_answer

    fake_x.answer_next(
        json_answer(200, {"token_type": "bearer", "expires_in": 7200, "access_token": "fresh"}),
        path="/2/oauth2/token",
    )
    fake_x.bearer_tokens.add("fresh")
    back = fake_x.authorization.approve(start(admin_web, f"/channels/{channel_id}/reconnect"))
    landed = come_back(admin_web, back)
    assert landed.headers["location"] == f"/channels/{channel_id}?notice=connected"
    (channel,) = channel_rows(runtime)
    assert channel.id == channel_id and channel.status == ChannelStatus.active
    creds = credentials_of(runtime, channel_id)
    assert creds["access_token"] == "fresh"
    assert creds["refresh_token"] == first_refresh
