"""YouTube renewals go through the single-flight refresh of app/connect/tokens.py: two
workers finding one expired token make one call to Google's token endpoint, the renewed
token is stored with the channel rows locked, and a connector's 401 renews through the
hook once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.channels import service as channels
from app.channels.checks import check_channel
from app.channels.models import Channel
from app.channels.schemas import ChannelCreate
from app.connect.models import ChannelToken
from app.connect.tokens import refresher
from app.db import transaction
from app.runtime import Runtime
from connectors.transport import make_client
from tests.fakes.youtube import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeYouTube


@pytest.fixture
def fake_youtube() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


def connected_youtube(runtime: Runtime, fake: FakeYouTube) -> str:
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        channel = channels.create(
            session,
            data=ChannelCreate.model_validate(
                {
                    "name": "YouTube Cadence Kitchen",
                    "platform": "youtube",
                    "config": {"api_base": fake.url, "token_url": fake.token_url},
                    "credentials": {
                        "access_token": ACCESS_TOKEN,
                        "refresh_token": REFRESH_TOKEN,
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                    },
                }
            ),
            box=runtime.box,
            now=now,
            outbound=runtime.settings.outbound_policy(),
        )
        session.add(
            ChannelToken(
                channel_id=channel.id,
                platform="youtube",
                access_expires_at=now + timedelta(hours=1),
            )
        )
        return channel.id


def credentials_of(runtime: Runtime, channel_id: str) -> dict[str, Any]:
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        return runtime.box.open(channel.credentials_encrypted)


def test_two_workers_with_one_expired_youtube_token_refresh_it_once(
    runtime: Runtime, fake_youtube: FakeYouTube
) -> None:
    channel_id = connected_youtube(runtime, fake_youtube)
    fake_youtube.expire_access_token(ACCESS_TOKEN)

    async def race() -> list[dict[str, Any]]:
        outbound = runtime.settings.outbound_policy()
        clients = [make_client(timeout=5, max_connections=2, outbound=outbound) for _ in "ab"]
        try:
            return list(
                await asyncio.gather(
                    *(refresher(runtime, c, channel_id)(ACCESS_TOKEN) for c in clients)
                )
            )
        finally:
            for c in clients:
                await c.aclose()

    answers = asyncio.run(race())
    assert len(fake_youtube.requests_to("token")) == 1, "Google was asked twice"
    (issued,) = fake_youtube.issued
    assert [a["access_token"] for a in answers] == [issued, issued]
    creds = credentials_of(runtime, channel_id)
    assert creds["access_token"] == issued
    assert creds["refresh_token"] == REFRESH_TOKEN  # Google does not rotate it
    with runtime.sessions() as session:
        token = session.get(ChannelToken, channel_id)
        assert token is not None and token.refreshed_at == runtime.clock.now()


def test_a_401_renews_through_the_locked_refresh_once(
    runtime: Runtime, fake_youtube: FakeYouTube
) -> None:
    channel_id = connected_youtube(runtime, fake_youtube)
    fake_youtube.expire_access_token(ACCESS_TOKEN)
    result = asyncio.run(check_channel(runtime, channel_id=channel_id))
    assert result.ok, result
    assert len(fake_youtube.requests_to("token")) == 1
    (issued,) = fake_youtube.issued
    assert credentials_of(runtime, channel_id)["access_token"] == issued
    with runtime.sessions() as session:
        token = session.get(ChannelToken, channel_id)
        assert token is not None and token.refreshed_at == runtime.clock.now()


def test_a_dead_youtube_grant_asks_for_a_reconnect(
    runtime: Runtime, fake_youtube: FakeYouTube
) -> None:
    channel_id = connected_youtube(runtime, fake_youtube)
    fake_youtube.kill_refresh_token()
    result = asyncio.run(check_channel(runtime, channel_id=channel_id))
    assert not result.ok
    assert len(fake_youtube.requests_to("token")) == 1
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None and channel.status == "needs_reconnect"
