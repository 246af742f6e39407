"""Connect SharePoint: Microsoft identity platform v2 with the tenant
(CADENCE_SHAREPOINT_TENANT, else the Viva Engage one) and PKCE, a chooser of the sites
Graph finds (`/sites?search=*`); the hour-long token is renewed ahead of its end by the
token keeper's single-flight refresh, rotating the refresh token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.channels.models import Channel
from app.clock import FrozenClock
from app.config import Settings
from app.connect.keeper import refresh_expiring
from app.connect.providers import app_settings
from app.runtime import Runtime
from app.users.models import Role
from tests.connect.test_tokens import credentials_of, with_client
from tests.fakes.sharepoint import CLIENT_ID, CLIENT_SECRET, SITE_ID, TENANT, FakeSharePoint
from tests.web.test_pages import login, make_user


@pytest.fixture
def fake_sharepoint() -> Iterator[FakeSharePoint]:
    with FakeSharePoint() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, fake_sharepoint: FakeSharePoint) -> Settings:
    return settings.model_copy(
        update={
            "sharepoint_client_id": CLIENT_ID,
            "sharepoint_client_secret": CLIENT_SECRET,
            "sharepoint_base_url": fake_sharepoint.url,
            "sharepoint_tenant": TENANT,
        }
    )


def test_the_tenant_falls_back_to_the_viva_engage_one(settings: Settings) -> None:
    shared = settings.model_copy(update={"sharepoint_tenant": None, "yammer_tenant": "f00d"})
    app = app_settings(shared, "sharepoint")
    assert app is not None and app.tenant == "f00d"
    app = app_settings(settings, "sharepoint")
    assert app is not None and app.tenant == TENANT


def test_connect_a_site_and_renew_its_token_ahead_of_the_hour(
    client: TestClient,
    runtime: Runtime,
    fake_sharepoint: FakeSharePoint,
    clock: FrozenClock,
    admin: dict[str, str],
) -> None:
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    url = client.get("/channels/connect/sharepoint", follow_redirects=False).headers["location"]
    assert url.startswith(f"{fake_sharepoint.url}/{TENANT}/oauth2/v2.0/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "Sites.ReadWrite.All offline_access"
    assert query["code_challenge_method"] == "S256"
    back = urlsplit(fake_sharepoint.authorization.approve(url))
    choose = client.get(f"{back.path}?{back.query}", follow_redirects=False).headers["location"]
    page = client.get(choose)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf is not None and "SharePoint Staff news" in page.text
    made = client.post(
        "/channels/connect/sharepoint/choose",
        data={
            "csrf_token": csrf.group(1),
            "flow": parse_qs(urlsplit(choose).query)["flow"][0],
            "pick": [SITE_ID],
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    with runtime.sessions() as session:
        (channel,) = session.scalars(select(Channel))
    assert channel.config["site_id"] == SITE_ID
    assert channel.config["token_url"] == f"{fake_sharepoint.url}/{TENANT}/oauth2/v2.0/token"
    first_access, first_refresh = fake_sharepoint.issued[0]

    clock.advance(minutes=55)
    del fake_sharepoint.tokens[first_access]  # it is about to end
    assert with_client(runtime, lambda http: refresh_expiring(runtime, http)) == 1
    creds = credentials_of(runtime, channel.id)
    assert (creds["access_token"], creds["refresh_token"]) == fake_sharepoint.issued[1]
    assert first_refresh not in fake_sharepoint.refresh_tokens
    tested = client.post(f"/api/v1/channels/{channel.id}/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text
