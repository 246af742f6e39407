"""Connect with one click, in Chromium against `cadence serve` and the fake X: the
admin clicks Connect, approves on X's (fake) consent page, lands on the new channel,
and a post goes out through it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.x import CLIENT_ID, CLIENT_SECRET, USERNAME, FakeX
from tests.web.conftest import Server, log_in


@pytest.fixture(scope="module")
def fake_x() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture(scope="module")
def server_env(fake_x: FakeX) -> dict[str, str]:
    return {
        "CADENCE_X_CLIENT_ID": CLIENT_ID,
        "CADENCE_X_CLIENT_SECRET": CLIENT_SECRET,
        "CADENCE_X_BASE_URL": fake_x.url,
    }


def test_connect_x_approve_land_on_the_channel_and_publish(
    page: Any, server: Server, fake_x: FakeX
) -> None:
    log_in(page)
    page.goto("/channels")
    page.get_by_role("link", name="Connect X").click()
    page.wait_for_url(f"{fake_x.url}/i/oauth2/authorize?*")
    page.get_by_role("button", name="Authorize app").click()
    page.wait_for_url("**/channels/*?notice=connected")
    assert page.get_by_text("The account is connected.").is_visible()
    channel_id = page.url.split("/channels/")[1].split("?")[0]
    channel = server.api.get(f"/channels/{channel_id}").json()
    assert channel["platform"] == "x" and channel["config"]["username"] == USERNAME

    objective = server.objective("Connected accounts")
    created = server.api.post(
        "/posts",
        json={
            "text": "Posted through a connected account",
            "channel_ids": [channel_id],
            "objective_ids": [objective["id"]],
            "publish_now": True,
        },
    )
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 30
    while not fake_x.tweets and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [t.text for t in fake_x.tweets] == ["Posted through a connected account"]
    assert fake_x.tweets[0].auth == "oauth2"
