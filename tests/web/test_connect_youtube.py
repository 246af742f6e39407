"""Connect YouTube: Google's consent with PKCE, offline access and forced consent, a
chooser of the account's channels, one channel per pick."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.channels.models import Channel
from app.config import Settings
from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import make_token
from tests.fakes.youtube import (
    CHANNEL_ID,
    CHANNEL_TITLE,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakeYouTube,
)
from tests.helpers import API
from tests.web.test_pages import login, make_user


@pytest.fixture
def fake_youtube() -> Iterator[FakeYouTube]:
    with FakeYouTube(access_token=None) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_youtube: FakeYouTube) -> Settings:
    return settings.model_copy(
        update={
            "youtube_client_id": CLIENT_ID,
            "youtube_client_secret": CLIENT_SECRET,
            "youtube_base_url": fake_youtube.url,
        }
    )


def test_connect_youtube_through_the_chooser(
    client: TestClient, runtime: Runtime, fake_youtube: FakeYouTube
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/youtube", follow_redirects=False).headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(fake_youtube.url + "/o/oauth2/v2/auth?")
    assert (query["access_type"], query["prompt"], query["code_challenge_method"]) == (
        "offline",
        "consent",
        "S256",
    )
    assert query["scope"].split() == [
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
    ]
    back = urlsplit(fake_youtube.authorization.approve(url))
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    choose = landed.headers["location"]
    assert choose.startswith("/channels/connect/youtube/choose?flow=")
    page = client.get(choose)
    assert page.status_code == 200 and CHANNEL_TITLE in page.text
    assert REFRESH_TOKEN not in page.text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None
    flow = parse_qs(urlsplit(choose).query)["flow"][0]

    nothing = client.post(
        "/channels/connect/youtube/choose",
        data={"csrf_token": csrf.group(1), "flow": flow},
        follow_redirects=False,
    )
    assert nothing.status_code == 400  # nothing ticked; the offer stays open
    made = client.post(
        "/channels/connect/youtube/choose",
        data={"csrf_token": csrf.group(1), "flow": flow, "pick": CHANNEL_ID},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    channel_id = made.headers["location"].split("/")[2].split("?")[0]
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None and channel.platform == "youtube"
        assert channel.name == f"YouTube {CHANNEL_TITLE}"
        assert channel.config["token_url"] == fake_youtube.url + "/token"
        creds = runtime.box.open(channel.credentials_encrypted)
    assert creds["refresh_token"] == REFRESH_TOKEN
    again = client.post(
        "/channels/connect/youtube/choose",
        data={"csrf_token": csrf.group(1), "flow": flow, "pick": CHANNEL_ID},
        follow_redirects=False,
    )
    assert again.status_code == 400  # the choice is made once

    headers = {"Authorization": f"Bearer {make_token(runtime, Role.admin, 'boss@example.org')}"}
    tested = client.post(f"{API}/channels/{channel_id}/test", headers=headers)
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text
