"""The audit trail and comment threads."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import API, HOOK_URL, objective, scheduled_post, webhook_channel


def test_post_history_and_csv(
    client: TestClient,
    admin: dict[str, str],
    contributor: dict[str, str],
    editor: dict[str, str],
) -> None:
    obj = objective(client, admin)["id"]
    hook = webhook_channel(client, admin, url=HOOK_URL)["id"]
    created = scheduled_post(client, contributor, obj, [hook])
    client.post(f"{API}/posts/{created['id']}/approve", headers=editor)
    client.patch(f"{API}/posts/{created['id']}", json={"text": "Better"}, headers=editor)
    client.delete(f"{API}/posts/{created['id']}", headers=editor)
    trail = client.get(
        f"{API}/audit", params={"subject_type": "post", "subject_id": created["id"]}, headers=editor
    )
    assert trail.status_code == 200, trail.text
    items = trail.json()["items"]
    assert [e["action"] for e in items] == ["cancel", "update", "approve", "submit", "create"]
    update = items[1]
    assert update["changes"]["text"] == ["Open day on Saturday", "Better"]
    assert update["actor_email"] == "editor@example.org"
    assert update["token_id"] is not None
    assert items[-1]["actor_email"] == "contributor@example.org"
    mine = client.get(f"{API}/audit", params={"actor_id": items[-1]["actor_id"]}, headers=editor)
    assert {e["action"] for e in mine.json()["items"]} == {"create", "submit"}
    csv = client.get(f"{API}/audit", params={"format": "csv"}, headers=editor)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("id,at,actor_id")


def test_no_api_changes_an_entry(client: TestClient, admin: dict[str, str]) -> None:
    for method in ("put", "patch", "delete"):
        answer = getattr(client, method)(f"{API}/audit", headers=admin)
        assert answer.status_code == 405


def test_channel_credentials_never_recorded(client: TestClient, admin: dict[str, str]) -> None:
    hook = webhook_channel(client, admin, url=HOOK_URL)
    client.patch(
        f"{API}/channels/{hook['id']}",
        json={"credentials": {"signing_secret": "a-new-secret-value"}},
        headers=admin,
    )
    trail = client.get(f"{API}/audit", params={"subject_type": "channel"}, headers=admin)
    assert "a-new-secret-value" not in trail.text and "hook-signing-secret" not in trail.text
    assert trail.json()["items"][0]["changes"]["credentials"] == [None, "changed"]


def test_comments(
    client: TestClient, admin: dict[str, str], contributor: dict[str, str], viewer: dict[str, str]
) -> None:
    obj = objective(client, admin)["id"]
    hook = webhook_channel(client, admin, url=HOOK_URL)["id"]
    created = scheduled_post(client, contributor, obj, [hook])
    url = f"{API}/posts/{created['id']}/comments"
    first = client.post(url, json={"text": "Can we add a photo?"}, headers=admin)
    assert first.status_code == 201, first.text
    client.post(url, json={"text": "Added"}, headers=contributor)
    assert client.post(url, json={"text": "x"}, headers=viewer).status_code == 403
    assert client.post(url, json={"text": ""}, headers=admin).status_code == 422
    thread: dict[str, Any] = client.get(url, headers=viewer, params={"limit": 1}).json()
    assert thread["total"] == 2
    assert [c["text"] for c in thread["items"]] == ["Can we add a photo?"]
    assert set(thread["items"][0]) == {"id", "at", "author_id", "author_email", "text"}
    assert client.get(f"{API}/posts/nope/comments", headers=viewer).status_code == 404
