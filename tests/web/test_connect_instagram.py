"""Connect Instagram through Facebook Login: the Instagram scopes, a long-lived user
token (its end warned of like Facebook's), a chooser of the Instagram professional
accounts linked to the admin's Pages (a Page without one offers nothing)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.channels.models import Channel
from app.clock import FrozenClock
from app.config import Settings
from app.connect.models import ChannelToken
from app.runtime import Runtime
from app.users.models import Role
from tests.connect.test_tokens import credentials_of
from tests.fakes.instagram import (
    APP_ID,
    APP_SECRET,
    IG_USER_ID,
    LONG_LIVED_SECONDS,
    TOKEN,
    USERNAME,
    FakeInstagram,
)
from tests.web.test_pages import login, make_user


@pytest.fixture
def fake_instagram() -> Iterator[FakeInstagram]:
    with FakeInstagram() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_instagram: FakeInstagram) -> Settings:
    return settings.model_copy(
        update={
            "instagram_client_id": APP_ID,
            "instagram_client_secret": APP_SECRET,
            "instagram_base_url": fake_instagram.url,
        }
    )


def test_connect_the_account_linked_to_a_page(
    client: TestClient,
    runtime: Runtime,
    fake_instagram: FakeInstagram,
    clock: FrozenClock,
    admin: dict[str, str],
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/instagram", follow_redirects=False).headers["location"]
    assert url.startswith(f"{fake_instagram.url}/v24.0/dialog/oauth?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == (
        "instagram_basic,instagram_content_publish,pages_show_list,pages_read_engagement"
    )
    back = urlsplit(fake_instagram.authorization.approve(url))
    choose = client.get(f"{back.path}?{back.query}", follow_redirects=False).headers["location"]
    page = client.get(choose)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None and f"Instagram @{USERNAME}" in page.text
    assert "Bake sale" not in page.text  # a Page without an Instagram account
    made = client.post(
        "/channels/connect/instagram/choose",
        data={
            "csrf_token": csrf.group(1),
            "flow": parse_qs(urlsplit(choose).query)["flow"][0],
            "pick": [IG_USER_ID],
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    with runtime.sessions() as session:
        (channel,) = session.scalars(select(Channel))
        token = session.get(ChannelToken, channel.id)
        assert token is not None
        assert token.ends_at == clock.now() + timedelta(seconds=LONG_LIVED_SECONDS)
    assert channel.platform == "instagram" and channel.config["ig_user_id"] == IG_USER_ID
    assert credentials_of(runtime, channel.id) == {"page_access_token": TOKEN}
    tested = client.post(f"/api/v1/channels/{channel.id}/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text
