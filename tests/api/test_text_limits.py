"""A post's text: at most 10,000 characters, and X's rules checked in linear time."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.posts.schemas import MAX_TEXT_LENGTH
from app.runtime import Runtime
from tests.helpers import API, LATER, locs, objective, post, row_counts, x_channel


def test_a_text_over_10000_characters_is_422_naming_text_and_nothing_is_stored(
    client: TestClient, editor: dict[str, str], admin: dict[str, str], runtime: Runtime
) -> None:
    assert MAX_TEXT_LENGTH == 10_000
    before = row_counts(runtime)
    response = client.post(
        f"{API}/posts", json={"text": "a" * 10_001, "status": "draft"}, headers=editor
    )
    assert response.status_code == 422, response.text
    assert locs(response) == ["body.text"]
    assert row_counts(runtime) == before

    draft = post(client, editor, text="a" * 10_000, status="draft")
    assert len(draft["text"]) == 10_000
    changed = client.patch(
        f"{API}/posts/{draft['id']}", json={"text": "b" * 10_001}, headers=editor
    )
    assert changed.status_code == 422, changed.text
    assert locs(changed) == ["body.text"]
    stored = client.get(f"{API}/posts/{draft['id']}", headers=editor).json()
    assert stored["text"] == "a" * 10_000


@pytest.mark.timeout(30)
def test_a_pathological_10000_character_text_for_x_is_refused_promptly(
    client: TestClient, editor: dict[str, str], admin: dict[str, str], runtime: Runtime
) -> None:
    # twitter-text's URL regex took minutes on this shape; a hang guard, not a timing.
    goal = objective(client, admin)
    channel = x_channel(client, admin)
    before = row_counts(runtime)
    response = client.post(
        f"{API}/posts",
        json={
            "text": "a." * 5_000,
            "objective_ids": [goal["id"]],
            "channel_ids": [channel["id"]],
            "scheduled_at": LATER,
        },
        headers=editor,
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "text"]
    assert "10000 of 280 characters as X counts them" in problem["msg"]
    assert row_counts(runtime) == before
