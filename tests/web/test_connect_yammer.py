"""Connect Viva Engage: Microsoft identity platform v2 with the tenant and PKCE, a
chooser of communities; the hour-long token is renewed on a 401 (rotating the
refresh token) and the message sent once."""

from __future__ import annotations

import asyncio
import re
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
from tests.fakes.yammer import CLIENT_ID, CLIENT_SECRET, GROUP_ID, TENANT, YammerFake
from tests.helpers import API, objective
from tests.web.test_pages import login, make_user

OTHER_GROUP = "31158067202"


@pytest.fixture
def fake_yammer() -> Iterator[YammerFake]:
    with YammerFake(groups={GROUP_ID, OTHER_GROUP}) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_yammer: YammerFake) -> Settings:
    return settings.model_copy(
        update={
            "yammer_client_id": CLIENT_ID,
            "yammer_client_secret": CLIENT_SECRET,
            "yammer_base_url": fake_yammer.url,
            "yammer_tenant": TENANT,
        }
    )


def drain(runtime: Runtime) -> None:
    async def go() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(go())


def test_connect_two_communities_and_renew_the_token_on_a_401(
    client: TestClient, runtime: Runtime, fake_yammer: YammerFake
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/yammer", follow_redirects=False).headers["location"]
    assert url.startswith(f"{fake_yammer.url}/{TENANT}/oauth2/v2.0/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "https://www.yammer.com/.default offline_access"
    assert query["code_challenge_method"] == "S256"
    back = urlsplit(fake_yammer.authorization.approve(url))
    choose = client.get(f"{back.path}?{back.query}", follow_redirects=False).headers["location"]
    page = client.get(choose)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None and "Comms 31158067202" in page.text
    made = client.post(
        "/channels/connect/yammer/choose",
        data={
            "csrf_token": csrf.group(1),
            "flow": parse_qs(urlsplit(choose).query)["flow"][0],
            "pick": [GROUP_ID, OTHER_GROUP],
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/channels?notice=connected"
    with runtime.sessions() as session:
        channels = {c.config["group_id"]: c for c in session.scalars(select(Channel))}
    assert set(channels) == {GROUP_ID, OTHER_GROUP}
    channel = channels[GROUP_ID]
    assert channel.config["token_url"] == f"{fake_yammer.url}/{TENANT}/oauth2/v2.0/token"
    first_access, first_refresh = fake_yammer.issued[0]

    fake_yammer.expired.add(first_access)  # an hour later
    headers = {"Authorization": f"Bearer {make_token(runtime, Role.admin, 'boss@example.org')}"}
    created = client.post(
        f"{API}/posts",
        json={
            "text": "Town hall at noon",
            "channel_ids": [channel.id],
            "publish_now": True,
            "objective_ids": [objective(client, headers)["id"]],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    drain(runtime)
    with runtime.sessions() as session:
        (delivery,) = session.scalars(select(Delivery))
        assert delivery.status == "published", delivery.last_error
        stored = session.get(Channel, channel.id)
        assert stored is not None
        creds = runtime.box.open(stored.credentials_encrypted)
    assert [m.form["body"] for m in fake_yammer.messages] == ["Town hall at noon"]
    assert len(fake_yammer.issued) == 2
    assert (creds["access_token"], creds["refresh_token"]) == fake_yammer.issued[1]
    assert first_refresh not in fake_yammer.refresh_tokens
    # The other community's channel came from the same sign-in: it got the rotated
    # refresh token in the same transaction, so its next renewal still works.
    with runtime.sessions() as session:
        other = session.get(Channel, channels[OTHER_GROUP].id)
        assert other is not None
        assert (
            runtime.box.open(other.credentials_encrypted)["refresh_token"] == creds["refresh_token"]
        )
