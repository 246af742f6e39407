"""Per-network versions: a channel's own text, title or link, validated, counted and
published for that channel only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.runtime import Runtime
from tests.helpers import API, LATER, locs, objective, post, row_counts, webhook_channel, x_channel
from tests.publishing.test_claims import claim


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "hook": webhook_channel(client, admin)["id"],
        "x": x_channel(client, admin)["id"],
    }


def _body(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "text": "Our open day is on Saturday: labs, talks and a tour of the campus. " * 5,
        "link": "https://example.org/open-day",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"], world["x"]],
        "scheduled_at": LATER,
        **fields,
    }


def test_each_channel_is_checked_and_published_with_its_own_version(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    body = _body(world)
    # The main text is too long for X: refused, naming the main text.
    response = client.post(f"{API}/posts", json=body, headers=editor)
    assert response.status_code == 422
    assert locs(response) == ["body.text"]

    short = {"text": "Open day on Saturday!", "link": "https://example.org/x"}
    created = post(client, editor, **_body(world, versions={world["x"]: short}))
    assert created["versions"] == {world["x"]: {**short, "title": None}}
    assert (
        client.get(f"{API}/posts/{created['id']}", headers=editor).json()["versions"]
        == (created["versions"])
    )

    clock.advance(seconds=90_000)
    requests = {job.platform: job.request for job in claim(runtime)}
    assert (requests["x"].text, requests["x"].link) == (short["text"], short["link"])
    assert (requests["webhook"].text, requests["webhook"].link) == (body["text"], body["link"])


def test_a_version_that_breaks_its_platforms_rules_is_named_in_the_version(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    versions = {world["x"]: {"text": "x" * 300}}
    response = client.post(
        f"{API}/posts", json=_body(world, text="Short", versions=versions), headers=editor
    )
    assert response.status_code == 422
    assert locs(response) == [f"body.versions.{world['x']}.text"]
    assert response.json()["detail"][0]["channel_id"] == world["x"]


def test_versions_for_a_channel_the_post_does_not_use_are_refused(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    body = _body(
        world, text="Short", channel_ids=[world["hook"]], versions={world["x"]: {"text": "Hi"}}
    )
    response = client.post(f"{API}/posts", json=body, headers=editor)
    assert response.status_code == 422
    assert locs(response) == [f"body.versions.{world['x']}"]
    assert row_counts(runtime) == before
    # Not even in a draft, and not with an unknown field or a wrong type.
    draft = {"status": "draft", "channel_ids": [], "versions": {world["x"]: {"text": "Hi"}}}
    assert client.post(f"{API}/posts", json=draft, headers=editor).status_code == 422
    for bad in ({world["x"]: {"colour": "red"}}, {world["x"]: "text"}, []):
        body = _body(world, text="Short", versions=bad)
        assert client.post(f"{API}/posts", json=body, headers=editor).status_code == 422, bad


def test_a_channel_taken_off_a_post_takes_its_version_along(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    created = post(client, editor, **_body(world, versions={world["x"]: {"text": "Short"}}))
    response = client.patch(
        f"{API}/posts/{created['id']}",
        json={"channel_ids": [world["hook"]], "text": "Shorter now"},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    assert response.json()["versions"] == {}
    # Given in the body, versions are checked against the channels as they will be.
    response = client.patch(
        f"{API}/posts/{created['id']}",
        json={"versions": {world["x"]: {"text": "Hi"}}},
        headers=editor,
    )
    assert response.status_code == 422
    assert locs(response) == [f"body.versions.{world['x']}"]
    response = client.patch(
        f"{API}/posts/{created['id']}",
        json={"channel_ids": [world["hook"], world["x"]], "versions": {world["x"]: {"text": "Hi"}}},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    assert response.json()["versions"][world["x"]]["text"] == "Hi"
