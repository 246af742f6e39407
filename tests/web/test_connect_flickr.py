"""Connect Flickr: OAuth 1.0a three-legged (request token, the member's OK, access
token), the state riding in the callback URL, a check through the new channel."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.channels.models import Channel
from app.config import Settings
from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import make_token
from tests.fakes.flickr import CONSUMER_KEY, CONSUMER_SECRET, USER_NSID, USERNAME, FakeFlickr
from tests.helpers import API
from tests.web.test_pages import login, make_user


@pytest.fixture
def fake_flickr() -> Iterator[FakeFlickr]:
    with FakeFlickr() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_flickr: FakeFlickr) -> Settings:
    return settings.model_copy(
        update={
            "flickr_client_id": CONSUMER_KEY,
            "flickr_client_secret": CONSUMER_SECRET,
            "flickr_base_url": fake_flickr.url,
        }
    )


def test_connect_flickr_three_legged(
    client: TestClient, runtime: Runtime, fake_flickr: FakeFlickr
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    started = client.get("/channels/connect/flickr", follow_redirects=False)
    assert started.status_code == 303, started.text
    url = started.headers["location"]
    assert url.startswith(fake_flickr.url + "/services/oauth/authorize?")
    assert parse_qs(urlsplit(url).query)["perms"] == ["write"]
    (request_token,) = fake_flickr.request_tokens
    callback = fake_flickr.request_tokens[request_token][1]
    assert callback.startswith("http://cadence.test/channels/connect/flickr/callback?state=")

    back = urlsplit(fake_flickr.approve(url))
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    channel_id = landed.headers["location"].split("/")[2].split("?")[0]
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None and channel.name == f"Flickr {USERNAME}"
        assert channel.config["user_nsid"] == USER_NSID
        creds = runtime.box.open(channel.credentials_encrypted)
    assert (creds["oauth_token"], creds["oauth_token_secret"]) == fake_flickr.access_tokens_issued[
        0
    ]

    again = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert again.status_code == 400
    with runtime.sessions() as session:
        assert len(list(session.scalars(select(Channel)))) == 1

    headers = {"Authorization": f"Bearer {make_token(runtime, Role.admin, 'boss@example.org')}"}
    tested = client.post(f"{API}/channels/{channel_id}/test", headers=headers)
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text
