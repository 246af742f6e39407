"""Tracked links: UTM parameters on a post's link and the URLs in its text, per channel,
added when the delivery is claimed for publishing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.exchange.utm import DEFAULT_TEMPLATE, Tracking, slug, tag_text, tag_url
from app.runtime import Runtime
from tests.helpers import API, objective, post, webhook_channel, x_channel
from tests.publishing.test_claims import claim

PARAMS = Tracking(DEFAULT_TEMPLATE, "Open days 2027!").parameters("x")
TAIL = "utm_source=x&utm_medium=social&utm_campaign=open-days-2027"


def test_the_slug_is_the_name_lower_cased_with_runs_of_other_characters_as_dashes() -> None:
    assert slug("Open days 2027!") == "open-days-2027"
    assert slug("  Ärger -- & Freude ") == "ärger-freude"
    assert slug("!!!") == ""


@pytest.mark.parametrize(
    ("url", "tagged"),
    [
        ("https://example.org/", f"https://example.org/?{TAIL}"),
        ("https://example.org/a?b=1&c=%20#top", f"https://example.org/a?b=1&c=%20&{TAIL}#top"),
        # The link's own utm_campaign stays; only what it lacks is added.
        (
            "https://example.org/?utm_campaign=spring",
            "https://example.org/?utm_campaign=spring&utm_source=x&utm_medium=social",
        ),
        ("mailto:someone@example.org", "mailto:someone@example.org"),
    ],
)
def test_a_link_keeps_its_query_fragment_and_own_utm(url: str, tagged: str) -> None:
    assert tag_url(url, PARAMS) == tagged


def test_urls_in_the_text_are_tagged_and_the_rest_is_left_as_written() -> None:
    text = "Come (https://example.org/day?x=1#map), or see example.com.\nhttp://a.example.org!"
    assert tag_text(text, PARAMS) == (
        f"Come (https://example.org/day?x=1&{TAIL}#map), or see example.com.\n"
        f"http://a.example.org?{TAIL}!"
    )
    assert tag_text("no links here", PARAMS) == "no links here"


def test_objectives_carry_utm_settings_and_refuse_a_bad_template(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = objective(client, admin)
    assert (created["utm"], created["utm_template"]) == (False, DEFAULT_TEMPLATE)
    for bad in ("utm_source={channel}", "no pairs", "a=1#frag", "{platform}=x"):
        response = client.patch(
            f"{API}/objectives/{created['id']}", json={"utm_template": bad}, headers=admin
        )
        assert response.status_code == 422, bad
        assert response.json()["detail"][0]["loc"] == ["body", "utm_template"]
    response = client.patch(
        f"{API}/objectives/{created['id']}",
        json={"utm": True, "utm_template": "utm_source={platform}&utm_campaign=fixed"},
        headers=admin,
    )
    assert response.status_code == 200 and response.json()["utm"] is True


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "tracked": objective(client, admin, name="Open days 2027!", utm=True)["id"],
        "plain": objective(client, admin, name="A plain one")["id"],
        "hook": webhook_channel(client, admin)["id"],
        "x": x_channel(client, admin)["id"],
    }


def _requests(runtime: Runtime, clock: FrozenClock) -> dict[str, Any]:
    clock.advance(seconds=90_000)
    return {job.platform: job.request for job in claim(runtime)}


def test_each_channel_publishes_its_own_tracked_links(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    post(
        client,
        editor,
        text="Open day: https://example.org/open?utm_campaign=mine#map",
        link="https://example.org/open",
        # The first objective by name ("A plain one") does not track; the next one does.
        objective_ids=[world["plain"], world["tracked"]],
        channel_ids=[world["hook"], world["x"]],
        scheduled_at="2026-11-24T10:00:00Z",
    )
    requests = _requests(runtime, clock)
    assert requests["x"].link == f"https://example.org/open?{TAIL}"
    assert requests["x"].text == (
        "Open day: https://example.org/open?utm_campaign=mine&utm_source=x&utm_medium=social#map"
    )
    hook = TAIL.replace("utm_source=x", "utm_source=webhook")
    assert requests["webhook"].link == f"https://example.org/open?{hook}"


def test_a_post_can_turn_tracking_off_and_untracked_objectives_add_nothing(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    body = {
        "text": "See https://example.org/",
        "channel_ids": [world["hook"]],
        "scheduled_at": "2026-11-24T10:00:00Z",
    }
    off = post(client, editor, objective_ids=[world["tracked"]], utm=False, **body)
    assert off["utm"] is False
    post(client, editor, objective_ids=[world["plain"]], **body)
    clock.advance(seconds=90_000)
    assert {job.request.text for job in claim(runtime)} == {"See https://example.org/"}


def test_x_counts_a_tracked_url_as_23_characters(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    text = "x" * 250 + " https://example.org/a"  # 250 + 1 + 23 = 274 of 280
    created = post(
        client,
        editor,
        text=text,
        objective_ids=[world["tracked"]],
        channel_ids=[world["x"]],
        scheduled_at="2026-11-24T10:00:00Z",
    )
    assert created["status"] == "scheduled"
