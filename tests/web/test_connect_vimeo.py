"""Connect Vimeo: OAuth 2 (client id and secret as HTTP Basic at the token endpoint),
the token's account from `GET /me`; the channel it makes passes its check."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.channels.models import Channel
from app.config import Settings
from app.connect.models import ChannelToken
from app.runtime import Runtime
from app.users.models import Role
from tests.connect.test_tokens import credentials_of
from tests.fakes.vimeo import CLIENT_ID, CLIENT_SECRET, FakeVimeo
from tests.web.test_pages import login, make_user


@pytest.fixture
def fake_vimeo() -> Iterator[FakeVimeo]:
    with FakeVimeo() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_vimeo: FakeVimeo) -> Settings:
    return settings.model_copy(
        update={
            "vimeo_client_id": CLIENT_ID,
            "vimeo_client_secret": CLIENT_SECRET,
            "vimeo_base_url": fake_vimeo.url,
        }
    )


def test_connect_vimeo_lands_on_the_account_channel(
    client: TestClient, runtime: Runtime, fake_vimeo: FakeVimeo, admin: dict[str, str]
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/vimeo", follow_redirects=False).headers["location"]
    assert url.startswith(f"{fake_vimeo.url}/oauth/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "public private upload edit"
    back = urlsplit(fake_vimeo.authorization.approve(url))
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"].endswith("?notice=connected")
    with runtime.sessions() as session:
        (channel,) = session.scalars(select(Channel))
        assert session.get(ChannelToken, channel.id) is not None
    assert channel.platform == "vimeo" and channel.name == "Vimeo Community Kitchen"
    assert fake_vimeo.calls("/me")
    assert channel.config == {"privacy": "anybody", "api_base": fake_vimeo.url}
    token = credentials_of(runtime, channel.id)["access_token"]
    assert fake_vimeo.tokens[token] == "public private upload edit"
    tested = client.post(f"/api/v1/channels/{channel.id}/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text


def test_a_refused_consent_creates_nothing(
    client: TestClient, runtime: Runtime, fake_vimeo: FakeVimeo
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/vimeo", follow_redirects=False).headers["location"]
    back = urlsplit(fake_vimeo.authorization.approve(url, allow=False))
    page = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert page.status_code in (400, 403, 409), page.text
    with runtime.sessions() as session:
        assert list(session.scalars(select(Channel))) == []
