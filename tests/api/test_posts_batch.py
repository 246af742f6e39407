"""POST /posts/batch: many posts at once, all or none, problems named by index."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.helpers import API, LATER, locs, objective, row_counts, total, webhook_channel, x_channel


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "hook": webhook_channel(client, admin)["id"],
        "x": x_channel(client, admin)["id"],
    }


def _body(world: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "text": "Open day on Saturday",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "scheduled_at": LATER,
        **fields,
    }


def test_a_batch_creates_every_post_in_order_with_one_coverage_answer(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    posts = [_body(world, text=f"Post {i}") for i in range(3)]
    posts.append(_body(world, text="Now", scheduled_at=None, publish_now=True))
    posts.append({"text": "A draft", "status": "draft"})
    response = client.post(f"{API}/posts/batch", json={"posts": posts}, headers=editor)
    assert response.status_code == 201, response.text
    answer = response.json()
    items = answer["items"]
    assert [p["text"] for p in items] == ["Post 0", "Post 1", "Post 2", "Now", "A draft"]
    assert [p["status"] for p in items] == ["scheduled"] * 4 + ["draft"]
    assert all(len(p["deliveries"]) == 1 for p in items[:4]) and items[4]["deliveries"] == []
    # Each answer is what GET says of the post.
    for item in items:
        assert client.get(f"{API}/posts/{item['id']}", headers=editor).json() == item
    # One coverage answer for the whole batch: the two objective-days it touched.
    assert [(c["day"], c["planned"]) for c in answer["coverage"]] == [
        ("2026-11-23", 1),
        ("2026-11-24", 3),
    ]
    assert total(client, editor, "/posts") == 5


def test_a_bad_post_refuses_the_whole_batch_naming_its_index_and_field(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    posts = [_body(world) for _ in range(6)]
    posts[1] = _body(world, objective_ids=["nope"])
    posts[3] = _body(world, channel_ids=[world["x"]], text="x" * 300)  # too long for X
    posts[4] = _body(world, scheduled_at="2020-01-01T00:00:00Z")
    response = client.post(f"{API}/posts/batch", json={"posts": posts}, headers=editor)
    assert response.status_code == 422, response.text
    assert locs(response) == [
        "body.posts.4.scheduled_at",
        "body.posts.1.objective_ids.0",
        "body.posts.3.text",
    ]
    assert row_counts(runtime) == before

    # Pydantic's own checks name the index too.
    posts = [_body(world), _body(world, text=12)]
    response = client.post(f"{API}/posts/batch", json={"posts": posts}, headers=editor)
    assert response.status_code == 422
    assert locs(response) == ["body.posts.1.text"]
    assert row_counts(runtime) == before


def test_a_batch_holds_one_to_a_thousand_posts(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    too_many = client.post(
        f"{API}/posts/batch", json={"posts": [_body(world)] * 1001}, headers=editor
    )
    assert too_many.status_code == 422 and locs(too_many) == ["body.posts"]
    empty = client.post(f"{API}/posts/batch", json={"posts": []}, headers=editor)
    assert empty.status_code == 422 and locs(empty) == ["body.posts"]

    full = client.post(f"{API}/posts/batch", json={"posts": [_body(world)] * 1000}, headers=editor)
    assert full.status_code == 201, full.text
    assert len({p["id"] for p in full.json()["items"]}) == 1000
    assert full.json()["coverage"][0]["planned"] == 1000
    assert total(client, editor, "/posts") == 1000


def test_a_batch_needs_an_editor(client: TestClient, viewer: dict[str, str]) -> None:
    response = client.post(f"{API}/posts/batch", json={"posts": [{"text": "x"}]}, headers=viewer)
    assert response.status_code == 403
