"""The channel pages follow the outbound policy and keep webhook URLs from readers.

Run with an empty allow list (the default), unlike the rest of the suite."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.runtime import Runtime
from app.users.models import Role
from tests.helpers import API
from tests.web.test_pages import csrf, errors_of, login, make_user

SECRET_URL = "https://hooks.example.org/intranet/T0KEN-in-the-path"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"outbound_allow": ""})


@pytest.mark.parametrize(
    "url",
    ["http://0x7f000001/hook", "http://[::1]/hook", "http://169.254.169.254/", "http://localhost/"],
)
def test_the_new_channel_form_refuses_a_non_public_address(
    client: TestClient, runtime: Runtime, url: str
) -> None:
    make_user(runtime, "admin@example.org", Role.admin)
    assert login(client, "admin@example.org").status_code == 303
    token = csrf(client, "/channels/new")

    page = client.post(
        "/channels/new",
        data={
            "csrf_token": token,
            "platform": "webhook",
            "name": "Hook",
            "audience": "internal",
            "config.url": url,
        },
    )

    assert page.status_code == 422
    assert "CADENCE_OUTBOUND_ALLOW" in errors_of(page.text, "config-url")


def test_a_viewer_never_gets_the_url_path(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    made = client.post(
        f"{API}/channels",
        json={
            "name": "Hook",
            "platform": "webhook",
            "audience": "internal",
            "config": {"url": SECRET_URL},
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    make_user(runtime, "viewer@example.org", Role.viewer)
    assert login(client, "viewer@example.org").status_code == 303

    for path in ("/channels", f"/channels/{made.json()['id']}"):
        page = client.get(path)
        assert page.status_code == 200
        assert "T0KEN" not in page.text
