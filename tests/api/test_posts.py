"""Creating posts: deliveries, times, and every rule that refuses one (storing nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.helpers import (
    API,
    LATER,
    as_read,
    locs,
    objective,
    post,
    row_counts,
    total,
    webhook_channel,
    x_channel,
)


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "other_objective": objective(client, admin, name="Fundraising events")["id"],
        "hook": webhook_channel(client, admin)["id"],
        "hook2": webhook_channel(client, admin, name="Second hook")["id"],
        "x": x_channel(client, admin)["id"],
    }


def _refused(
    client: TestClient,
    headers: dict[str, str],
    runtime: Runtime,
    body: dict[str, Any],
    *,
    status: int = 422,
) -> Any:
    """POST /posts must fail and leave every table as it was."""
    before = row_counts(runtime)
    response = client.post(f"{API}/posts", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert row_counts(runtime) == before
    assert total(client, headers, "/posts") == 0
    return response


def test_scheduled_post_gets_one_delivery_per_channel(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    created = post(
        client,
        editor,
        text="Open day on Saturday",
        title="Open day",
        link="https://example.org/open-day",
        objective_ids=[world["objective"], world["other_objective"]],
        channel_ids=[world["hook"], world["x"], world["hook2"]],
        scheduled_at="2026-11-24T10:30:00-05:00",
    )
    assert created["status"] == "scheduled"
    assert created["text"] == "Open day on Saturday"
    assert created["title"] == "Open day"
    assert created["link"] == "https://example.org/open-day"
    assert created["internal_only"] is False
    assert created["media_ids"] == []
    assert sorted(created["objective_ids"]) == sorted(
        [world["objective"], world["other_objective"]]
    )
    assert sorted(created["channel_ids"]) == sorted([world["hook"], world["x"], world["hook2"]])
    assert created["scheduled_at"] == "2026-11-24T15:30:00Z"  # normalised to UTC
    assert created["created_at"] == "2026-11-23T09:00:00Z"
    assert created["created_by_id"] and created["created_by_id"] == created["updated_by_id"]
    deliveries = created["deliveries"]
    assert sorted(d["channel_id"] for d in deliveries) == sorted(created["channel_ids"])
    assert len({d["id"] for d in deliveries}) == 3
    for delivery in deliveries:
        assert delivery["post_id"] == created["id"]
        assert delivery["status"] == "scheduled"
        assert delivery["attempts"] == 0
        assert delivery["next_attempt_at"] == "2026-11-24T15:30:00Z"
        for key in ("published_at", "external_id", "permalink", "last_error"):
            assert delivery[key] is None
    fetched = client.get(f"{API}/posts/{created['id']}", headers=editor)
    assert fetched.status_code == 200
    assert fetched.json() == as_read(created)


def test_duplicate_ids_are_taken_once(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    created = post(
        client,
        editor,
        text="Twice",
        objective_ids=[world["objective"], world["objective"]],
        channel_ids=[world["hook"], world["hook"]],
        scheduled_at=LATER,
    )
    assert created["objective_ids"] == [world["objective"]]
    assert len(created["deliveries"]) == 1


def test_draft_needs_nothing(client: TestClient, editor: dict[str, str], runtime: Runtime) -> None:
    created = post(client, editor, text="An idea", status="draft")
    assert created["status"] == "draft"
    assert created["scheduled_at"] is None
    assert created["deliveries"] == []
    assert created["objective_ids"] == created["channel_ids"] == []
    assert total(client, editor, "/posts", status="draft") == 1


def test_draft_with_channels_has_draft_deliveries(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    created = post(
        client,
        editor,
        text="",
        status="draft",
        channel_ids=[world["x"]],
        scheduled_at="2026-01-01T00:00:00Z",  # in the past is fine for a draft
    )
    assert created["status"] == "draft"
    [delivery] = created["deliveries"]
    assert delivery["status"] == "draft"
    assert delivery["next_attempt_at"] is None


def test_publish_now(client: TestClient, editor: dict[str, str], world: dict[str, Any]) -> None:
    created = post(
        client,
        editor,
        text="Breaking news",
        objective_ids=[world["objective"]],
        channel_ids=[world["hook"]],
        publish_now=True,
    )
    assert created["scheduled_at"] == "2026-11-23T09:00:00Z"  # the clock's now
    assert created["deliveries"][0]["next_attempt_at"] == "2026-11-23T09:00:00Z"


def test_a_minute_ago_is_still_now(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    created = post(
        client,
        editor,
        text="Just now",
        objective_ids=[world["objective"]],
        channel_ids=[world["hook"]],
        scheduled_at="2026-11-23T08:59:30Z",
    )
    assert created["scheduled_at"] == "2026-11-23T08:59:30Z"


def test_bad_scheduled_at(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    for when in (
        "2026-11-24T10:00:00",  # no offset
        "2026-11-24 10:00",
        "tomorrow",
        "2026-13-01T00:00:00Z",
        "2026-11-24T25:00:00Z",
        "",
        1795000000,
        True,
        ["2026-11-24T10:00:00Z"],
    ):
        body = {
            "text": "x",
            "objective_ids": [world["objective"]],
            "channel_ids": [world["hook"]],
            "scheduled_at": when,
        }
        response = _refused(client, editor, runtime, body)
        assert locs(response) == ["body.scheduled_at"], when


def test_scheduled_in_the_past(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    body = {
        "text": "x",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "scheduled_at": "2026-11-23T08:00:00Z",
    }
    response = _refused(client, editor, runtime, body)
    assert locs(response) == ["body.scheduled_at"]
    assert "publish_now" in response.json()["detail"][0]["msg"]


def test_scheduled_at_and_publish_now_together(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    body = {
        "text": "x",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "scheduled_at": LATER,
        "publish_now": True,
    }
    response = _refused(client, editor, runtime, body)
    assert locs(response) == ["body.publish_now"]


def test_scheduled_post_needs_objectives_channels_and_time(
    client: TestClient, editor: dict[str, str], runtime: Runtime
) -> None:
    response = _refused(client, editor, runtime, {"text": "x"})
    assert sorted(locs(response)) == ["body.channel_ids", "body.objective_ids", "body.scheduled_at"]
    response = _refused(
        client, editor, runtime, {"text": "x", "objective_ids": [], "channel_ids": []}
    )
    assert "body.objective_ids" in locs(response)
    assert "body.channel_ids" in locs(response)


def test_unknown_ids_are_named_with_their_index(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    body = {
        "text": "x",
        "objective_ids": [world["objective"], "no-such-objective"],
        "channel_ids": ["no-such-channel", world["hook"]],
        "media_ids": ["no-such-media"],
        "scheduled_at": LATER,
    }
    response = _refused(client, editor, runtime, body)
    assert sorted(locs(response)) == [
        "body.channel_ids.0",
        "body.media_ids.0",
        "body.objective_ids.1",
    ]
    messages = {".".join(map(str, p["loc"])): p["msg"] for p in response.json()["detail"]}
    assert "no-such-objective" in messages["body.objective_ids.1"]
    assert "no-such-channel" in messages["body.channel_ids.0"]
    assert "no-such-media" in messages["body.media_ids.0"]
    # Drafts check ids too.
    response = _refused(client, editor, runtime, {"status": "draft", "channel_ids": ["nope"]})
    assert locs(response) == ["body.channel_ids.0"]


def test_bad_field_values(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    for field, value in (
        ("objective_ids", "not-a-list"),
        ("objective_ids", [1, 2]),
        ("channel_ids", [""]),
        ("media_ids", [None]),
        ("text", 5),
        ("text", "x" * 100_001),
        ("title", "t" * 301),
        ("link", "not a url"),
        ("link", "ftp://example.org/x"),
        ("internal_only", "sometimes"),
        ("status", "published"),
        ("status", "cancelled"),
        ("publish_now", "yes please"),
        ("deliveries", []),
        ("id", "mine"),
    ):
        body = {
            "text": "x",
            "objective_ids": [world["objective"]],
            "channel_ids": [world["hook"]],
            "scheduled_at": LATER,
            field: value,
        }
        response = _refused(client, editor, runtime, body)
        assert any(
            loc == f"body.{field}" or loc.startswith(f"body.{field}.") for loc in locs(response)
        ), (field, response.text)


def test_internal_only_refuses_external_channels(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    body = {
        "text": "Staff only",
        "internal_only": True,
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"], world["x"]],
        "scheduled_at": LATER,
    }
    response = _refused(client, editor, runtime, body)
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "channel_ids", 1]
    assert problem["channel_id"] == world["x"]
    assert "internal_only" in problem["msg"]
    # Internal channels are fine.
    created = post(client, editor, **{**body, "channel_ids": [world["hook"]]})
    assert created["internal_only"] is True


def test_x_length_counts_as_x_does(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    base = {
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"], world["x"]],
        "scheduled_at": LATER,
    }
    response = _refused(client, editor, runtime, {**base, "text": "a" * 281})
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "text"]
    assert problem["channel_id"] == world["x"]
    assert problem["type"] == "platform_rule"
    assert "281 of 280" in problem["msg"]

    long_url = "https://example.org/" + "path/" * 30
    # 270 characters and a URL: the URL counts as 23, so 270 + 1 + 23 = 294.
    response = _refused(client, editor, runtime, {**base, "text": "a" * 270 + " " + long_url})
    [problem] = response.json()["detail"]
    assert problem["channel_id"] == world["x"]
    assert "294 of 280" in problem["msg"]
    # 250 characters and the same URL fit (274), though the raw text is far longer.
    text = "a" * 250 + " " + long_url
    assert len(text) > 280
    created = post(client, editor, **base, text=text)
    assert created["status"] == "scheduled"
    assert post(client, editor, **base, text="a" * 280)["status"] == "scheduled"


def test_every_channel_and_problem_is_named(
    client: TestClient, admin: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    youtube = client.post(
        f"{API}/channels",
        json={
            "name": "Our YouTube",
            "platform": "youtube",
            "config": {},
            "credentials": {"refresh_token": "r", "client_id": "c", "client_secret": "s"},
        },
        headers=admin,
    ).json()
    body = {
        "text": "a" * 300,
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"], youtube["id"], world["x"]],
        "scheduled_at": LATER,
    }
    response = _refused(client, admin, runtime, body)
    problems = response.json()["detail"]
    by_channel: dict[str, set[str]] = {}
    for problem in problems:
        by_channel.setdefault(problem["channel_id"], set()).add(problem["loc"][1])
        assert problem["msg"]
    assert by_channel == {youtube["id"]: {"title", "media_ids"}, world["x"]: {"text"}}
    assert any("Our YouTube" in p["msg"] for p in problems)


def test_empty_text_is_refused_where_text_is_needed(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    body = {
        "text": "   ",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "scheduled_at": LATER,
    }
    response = _refused(client, editor, runtime, body)
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "text"]
    assert problem["channel_id"] == world["hook"]


def test_disabled_channel_is_refused(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    runtime: Runtime,
    world: dict[str, Any],
) -> None:
    client.patch(f"{API}/channels/{world['hook2']}", json={"status": "disabled"}, headers=admin)
    body = {
        "text": "x",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"], world["hook2"]],
        "scheduled_at": LATER,
    }
    response = _refused(client, editor, runtime, body)
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "channel_ids", 1]
    assert problem["channel_id"] == world["hook2"]
    assert "disabled" in problem["msg"]
    # A draft may still name it.
    assert post(client, editor, **body, status="draft")["status"] == "draft"


def test_archived_objective_is_refused(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    runtime: Runtime,
    world: dict[str, Any],
) -> None:
    client.patch(
        f"{API}/objectives/{world['other_objective']}", json={"archived": True}, headers=admin
    )
    body = {
        "text": "x",
        "objective_ids": [world["objective"], world["other_objective"]],
        "channel_ids": [world["hook"]],
        "scheduled_at": LATER,
    }
    response = _refused(client, editor, runtime, body)
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "objective_ids", 1]
    assert "archived" in problem["msg"]


def test_times_out_of_range_are_422(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    for when in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):
        body = {
            "text": "x",
            "objective_ids": [world["objective"]],
            "channel_ids": [world["hook"]],
            "scheduled_at": when,
        }
        response = _refused(client, editor, runtime, body)
        assert locs(response) == ["body.scheduled_at"]
        response = _refused(client, editor, runtime, {**body, "status": "draft"})
        assert locs(response) == ["body.scheduled_at"]
