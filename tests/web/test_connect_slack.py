"""Add to Slack: the `incoming-webhook` answer becomes the channel's webhook."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.channels.models import Channel
from app.config import Settings
from app.posts.models import Delivery
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import make_token
from tests.fakes.slack import CLIENT_ID, CLIENT_SECRET, FakeSlack
from tests.helpers import API, objective
from tests.web.test_pages import login, make_user


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_slack: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_client_id": CLIENT_ID,
            "slack_client_secret": CLIENT_SECRET,
            "slack_base_url": fake_slack.url,
        }
    )


def test_add_to_slack_makes_a_slack_channel_that_publishes(
    client: TestClient, runtime: Runtime, fake_slack: FakeSlack
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    started = client.get("/channels/connect/slack", follow_redirects=False)
    url = started.headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(fake_slack.url + "/oauth/v2/authorize?")
    assert query["scope"] == "incoming-webhook" and "code_challenge" not in query
    back = urlsplit(fake_slack.authorization.approve(url))
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    channel_id = landed.headers["location"].split("/")[2].split("?")[0]
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        assert (channel.platform, channel.name) == ("slack", "Slack Cadence Comms #comms")
        hook = runtime.box.open(channel.credentials_encrypted)["webhook_url"]
    assert hook == fake_slack.url + fake_slack.hooks[0]

    # A replayed answer creates nothing more.
    again = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert again.status_code == 400

    headers = {"Authorization": f"Bearer {make_token(runtime, Role.admin, 'boss@example.org')}"}
    created = client.post(
        f"{API}/posts",
        json={
            "text": "Hello Slack",
            "channel_ids": [channel_id],
            "publish_now": True,
            "objective_ids": [objective(client, headers)["id"]],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text

    async def drain() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(drain())
    with runtime.sessions() as session:
        (delivery,) = session.scalars(select(Delivery))
        assert delivery.status == "published", delivery.last_error
    assert [m.get("text") for m in fake_slack.messages] == ["Hello Slack"]
