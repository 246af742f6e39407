"""Connect Mastodon: the admin types the instance, Cadence registers itself there once
(`POST /api/v1/apps`, kept per instance), signs in with OAuth (`read write:statuses
write:media`), reads the account and the instance's own text limit into the channel."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.channels.models import Channel
from app.clock import FrozenClock
from app.connect.keeper import check_connected
from app.connect.mastodon import instance_origin
from app.connect.models import MastodonApp
from app.connect.states import FlowRefused
from app.runtime import Runtime
from app.users.models import Role
from connectors.outbound import OutboundPolicy
from tests.connect.test_tokens import credentials_of, with_client
from tests.fakes.mastodon import USERNAME, FakeMastodon
from tests.web.test_pages import csrf, login, make_user


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon(max_characters=1000) as made:
        yield made


def start(client: TestClient, instance: str) -> str:
    token = csrf(client, "/channels/connect/mastodon")
    answer = client.post(
        "/channels/connect/mastodon",
        data={"csrf_token": token, "instance": instance},
        follow_redirects=False,
    )
    assert answer.status_code == 200, answer.text
    link = re.search(r'<a class="button primary" href="([^"]+)">Sign in at', answer.text)
    assert link is not None, answer.text
    return html.unescape(link.group(1))


def test_connect_registers_once_and_keeps_the_instance_limit(
    client: TestClient, runtime: Runtime, fake: FakeMastodon, admin: dict[str, str]
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    assert "Connect Mastodon" in client.get("/channels").text
    url = start(client, fake.url + "/")
    assert url.startswith(f"{fake.url}/oauth/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "read write:statuses write:media"
    [registered] = fake.registrations
    assert registered["redirect_uris"].endswith("/channels/connect/mastodon/callback")
    assert registered["scopes"] == "read write:statuses write:media"
    back = urlsplit(fake.authorization.approve(url))
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    with runtime.sessions() as session:
        (channel,) = session.scalars(select(Channel))
        (app,) = session.scalars(select(MastodonApp))
    assert landed.headers["location"] == f"/channels/{channel.id}?notice=connected"
    assert channel.name == f"Mastodon @{USERNAME}@127.0.0.1"
    assert channel.config["instance"] == fake.url and channel.config["max_characters"] == 1000
    assert app.instance == fake.url and app.client_id == "mast-client-1"
    assert fake.clients[app.client_id] not in app.client_secret_encrypted
    token = credentials_of(runtime, channel.id)["access_token"]
    assert fake.tokens[token] == "read write:statuses write:media"
    tested = client.post(f"/api/v1/channels/{channel.id}/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text

    # A second account on the same instance: no second registration.
    again = start(client, fake.url)
    assert len(fake.registrations) == 1
    assert parse_qs(urlsplit(again).query)["client_id"] == ["mast-client-1"]


def test_a_bad_or_insecure_address_is_refused_on_the_form(
    client: TestClient, runtime: Runtime
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    token = csrf(client, "/channels/connect/mastodon")
    for typed, words in [
        ("http://mastodon.example", "must use https"),
        ("https://mastodon.example/@someone", "not an instance address"),
        ("", "not an instance address"),
    ]:
        page = client.post(
            "/channels/connect/mastodon", data={"csrf_token": token, "instance": typed}
        )
        assert page.status_code == 400 and words in page.text.lower(), page.text
        assert re.search(r'aria-invalid="true"', page.text)


def test_instance_addresses_are_read_strictly() -> None:
    allowed = OutboundPolicy(["127.0.0.1"])
    assert instance_origin("http://127.0.0.1:8080", allowed) == "http://127.0.0.1:8080"
    assert instance_origin("Mastodon.Social", allowed) == "https://mastodon.social"
    assert (
        instance_origin(" https://social.example:8443 ", allowed) == "https://social.example:8443"
    )
    for bad in ["ftp://x.example", "https://u:p@x.example", "https://x.example/?q=1", "https://"]:
        with pytest.raises(FlowRefused):
            instance_origin(bad, allowed)


def test_the_daily_check_refreshes_the_instance_limit(
    client: TestClient, runtime: Runtime, fake: FakeMastodon, clock: FrozenClock
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    back = urlsplit(fake.authorization.approve(start(client, fake.url)))
    assert client.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 303
    fake.max_characters = 5000  # the instance raised its limit
    clock.advance(days=1, seconds=1)
    assert with_client(runtime, lambda http: check_connected(runtime, http)) == 1
    with runtime.sessions() as session:
        (channel,) = session.scalars(select(Channel))
    assert channel.config["max_characters"] == 5000


def test_reconnect_signs_in_at_the_channels_instance_and_updates_it_in_place(
    client: TestClient, runtime: Runtime, fake: FakeMastodon
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    back = urlsplit(fake.authorization.approve(start(client, fake.url)))
    assert client.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 303
    with runtime.sessions() as session:
        (channel,) = session.scalars(select(Channel))
    old_token = credentials_of(runtime, channel.id)["access_token"]
    page = client.get(f"/channels/{channel.id}").text
    assert f'href="/channels/{channel.id}/reconnect">Reconnect</a>' in page

    began = client.get(f"/channels/{channel.id}/reconnect", follow_redirects=False)
    assert began.status_code == 303, began.text
    url = began.headers["location"]
    assert url.startswith(f"{fake.url}/oauth/authorize?")  # the channel's own instance
    assert parse_qs(urlsplit(url).query)["client_id"] == ["mast-client-1"]  # kept app
    back = urlsplit(fake.authorization.approve(url))
    landed = client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"] == f"/channels/{channel.id}?notice=connected"
    with runtime.sessions() as session:
        (same,) = session.scalars(select(Channel))  # updated in place, no second channel
    assert same.id == channel.id
    new_token = credentials_of(runtime, channel.id)["access_token"]
    assert new_token != old_token and new_token in fake.tokens
    assert len(fake.registrations) == 1
