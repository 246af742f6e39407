"""Connect Facebook Pages: the Login dialog, the code exchange, the long-lived user
token, `/me/accounts` as the chooser; the grant's known end raises one alert 7 days
before it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.models import Alert
from app.channels.models import Channel
from app.clock import FrozenClock
from app.config import Settings
from app.connect.keeper import warn_of_ends
from app.connect.models import ChannelToken
from app.db import transaction
from app.posts.models import Delivery
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import make_token
from tests.fakes.facebook import APP_ID, APP_SECRET, PAGE_ID, PAGE_NAME, PAGE_TOKEN, FakeFacebook
from tests.helpers import API, objective
from tests.web.test_pages import login, make_user


@pytest.fixture
def fake_facebook() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_facebook: FakeFacebook) -> Settings:
    return settings.model_copy(
        update={
            "facebook_client_id": APP_ID,
            "facebook_client_secret": APP_SECRET,
            "facebook_base_url": fake_facebook.url,
        }
    )


def test_connect_a_facebook_page_and_publish_through_it(
    client: TestClient, runtime: Runtime, fake_facebook: FakeFacebook, clock: FrozenClock
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/facebook", follow_redirects=False).headers["location"]
    assert url.startswith(fake_facebook.url + "/v24.0/dialog/oauth?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "pages_show_list,pages_read_engagement,pages_manage_posts"
    back = urlsplit(fake_facebook.authorization.approve(url))
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    choose = landed.headers["location"]
    page = client.get(choose)
    assert PAGE_NAME in page.text and PAGE_TOKEN not in page.text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    made = client.post(
        "/channels/connect/facebook/choose",
        data={
            "csrf_token": csrf.group(1),
            "flow": parse_qs(urlsplit(choose).query)["flow"][0],
            "pick": PAGE_ID,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    channel_id = made.headers["location"].split("/")[2].split("?")[0]
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None and channel.config["page_id"] == PAGE_ID
        assert runtime.box.open(channel.credentials_encrypted) == {"page_access_token": PAGE_TOKEN}
        token = session.get(ChannelToken, channel_id)
        assert token is not None
        assert token.ends_at == clock.now() + timedelta(seconds=5_183_944)

    headers = {"Authorization": f"Bearer {make_token(runtime, Role.admin, 'boss@example.org')}"}
    created = client.post(
        f"{API}/posts",
        json={
            "text": "Soup kitchen open on Sunday",
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
    assert [p.message for p in fake_facebook.posts] == ["Soup kitchen open on Sunday"]

    clock.advance(days=53)
    with transaction(runtime.sessions) as session:
        assert warn_of_ends(session, now=clock.now()) == 1
    with runtime.sessions() as session:
        (alert,) = session.scalars(select(Alert).where(Alert.channel_id == channel_id))
        assert f"/channels/{channel_id}/reconnect" in alert.message
