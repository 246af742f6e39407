"""Connect LinkedIn: OAuth 2.0 (no PKCE, client secret in the form), a chooser of the
organisation pages the member administers, 60-day access tokens renewed ahead of their
end with the programmatic refresh token, and the 7-day warning of the grant's end."""

from __future__ import annotations

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
from app.connect.keeper import refresh_expiring, warn_of_ends
from app.connect.models import ChannelToken
from app.db import transaction
from app.posts.models import Delivery
from app.runtime import Runtime
from app.users.models import Role
from tests.connect.test_tokens import credentials_of, drain, with_client
from tests.fakes.linkedin import (
    ACCESS_SECONDS,
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_URN,
    REFRESH_SECONDS,
    FakeLinkedIn,
)
from tests.helpers import objective, post
from tests.web.test_pages import login, make_user

OTHER_ORG = "urn:li:organization:5515715"


@pytest.fixture
def fake_linkedin() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn(admin_of={ORG_URN, OTHER_ORG}) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    return settings.model_copy(
        update={
            "linkedin_client_id": CLIENT_ID,
            "linkedin_client_secret": CLIENT_SECRET,
            "linkedin_base_url": fake_linkedin.url,
        }
    )


def connect_pages(client: TestClient, runtime: Runtime, fake: FakeLinkedIn) -> dict[str, Channel]:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/linkedin", follow_redirects=False).headers["location"]
    assert url.startswith(f"{fake.url}/oauth/v2/authorization?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "w_organization_social r_organization_social rw_organization_admin"
    assert "code_challenge" not in query
    back = urlsplit(fake.authorization.approve(url))
    choose = client.get(f"{back.path}?{back.query}", follow_redirects=False).headers["location"]
    page = client.get(choose)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None and "LinkedIn Community Kitchen" in page.text
    made = client.post(
        "/channels/connect/linkedin/choose",
        data={
            "csrf_token": csrf.group(1),
            "flow": parse_qs(urlsplit(choose).query)["flow"][0],
            "pick": [ORG_URN, OTHER_ORG],
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/channels?notice=connected"
    with runtime.sessions() as session:
        return {c.config["organization_urn"]: c for c in session.scalars(select(Channel))}


def test_connect_two_pages_renew_ahead_of_the_end_and_publish(
    client: TestClient,
    runtime: Runtime,
    fake_linkedin: FakeLinkedIn,
    clock: FrozenClock,
    admin: dict[str, str],
) -> None:
    start = clock.now()
    channels = connect_pages(client, runtime, fake_linkedin)
    assert set(channels) == {ORG_URN, OTHER_ORG}
    channel = channels[ORG_URN]
    first_access, first_refresh = fake_linkedin.issued[0]
    creds = credentials_of(runtime, channel.id)
    assert creds["access_token"] == first_access and creds["refresh_token"] == first_refresh
    with runtime.sessions() as session:
        token = session.get(ChannelToken, channel.id)
        assert token is not None
        assert token.access_expires_at == start + timedelta(seconds=ACCESS_SECONDS)
        assert token.ends_at == start + timedelta(seconds=REFRESH_SECONDS)

    clock.advance(days=59, hours=23, minutes=55)  # five minutes before the 60 days
    fake_linkedin.expired.add(first_access)
    assert with_client(runtime, lambda http: refresh_expiring(runtime, http)) == 2
    # One sign-in, one refresh: the other page's channel got the same new token.
    assert len(fake_linkedin.issued) == 2
    renewed = credentials_of(runtime, channel.id)
    assert renewed["access_token"] == fake_linkedin.issued[1][0]
    assert renewed["refresh_token"] == first_refresh  # programmatic: not rotated
    assert (
        credentials_of(runtime, channels[OTHER_ORG].id)["access_token"] == renewed["access_token"]
    )
    with runtime.sessions() as session:
        token = session.get(ChannelToken, channel.id)
        assert token is not None
        assert token.access_expires_at == clock.now() + timedelta(seconds=ACCESS_SECONDS)
        assert token.ends_at == start + timedelta(seconds=REFRESH_SECONDS)  # does not move

    post(
        client,
        admin,
        text="Soup kitchen opens at noon",
        channel_ids=[channel.id],
        publish_now=True,
        objective_ids=[objective(client, admin, name="LinkedIn reach")["id"]],
    )
    drain(runtime)
    with runtime.sessions() as session:
        (delivery,) = session.scalars(select(Delivery))
        assert delivery.status == "published", delivery.last_error
    assert [p.body["author"] for p in fake_linkedin.posts] == [ORG_URN]


def test_without_a_refresh_token_the_60_day_end_is_warned_of_7_days_before(
    client: TestClient, runtime: Runtime, fake_linkedin: FakeLinkedIn, clock: FrozenClock
) -> None:
    fake_linkedin.with_refresh = False
    start = clock.now()
    channels = connect_pages(client, runtime, fake_linkedin)
    channel = channels[ORG_URN]
    assert "refresh_token" not in credentials_of(runtime, channel.id)
    with runtime.sessions() as session:
        token = session.get(ChannelToken, channel.id)
        assert token is not None and token.ends_at == start + timedelta(seconds=ACCESS_SECONDS)
    clock.advance(days=52)
    with transaction(runtime.sessions) as session:
        assert warn_of_ends(session, now=clock.now()) == 0
    clock.advance(days=1, seconds=1)
    with transaction(runtime.sessions) as session:
        assert warn_of_ends(session, now=clock.now()) == 2
    with runtime.sessions() as session:
        messages = [a.message for a in session.scalars(select(Alert))]
    assert any(f"/channels/{channel.id}/reconnect" in m for m in messages)
    # Nothing to renew with: the keeper leaves the token alone (no refused refresh).
    clock.advance(days=6, hours=23, minutes=55)
    with_client(runtime, lambda http: refresh_expiring(runtime, http))
    assert len(fake_linkedin.issued) == 1
