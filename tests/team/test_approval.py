"""Contributors' posts wait for approval; approve, reject, edits, missed windows."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.runtime import Runtime
from tests.helpers import API, HOOK_URL, objective, post, scheduled_post, webhook_channel


@pytest.fixture
def setup(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "internal": webhook_channel(client, admin, url=HOOK_URL)["id"],
        "external": webhook_channel(
            client, admin, url=HOOK_URL, name="Public hook", audience="external"
        )["id"],
    }


def test_requires_approval_defaults_by_audience(client: TestClient, admin: dict[str, str]) -> None:
    internal = webhook_channel(client, admin, url=HOOK_URL)
    external = webhook_channel(client, admin, url=HOOK_URL, name="Out", audience="external")
    assert internal["requires_approval"] is False
    assert external["requires_approval"] is True
    changed = client.patch(
        f"{API}/channels/{external['id']}", json={"requires_approval": False}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["requires_approval"] is False


def test_contributor_post_waits_and_is_never_claimable(
    client: TestClient, contributor: dict[str, str], setup: dict[str, Any]
) -> None:
    created = scheduled_post(client, contributor, setup["objective"], [setup["internal"]])
    assert created["status"] == "pending_approval"
    assert [d["status"] for d in created["deliveries"]] == ["draft"]
    listed = client.get(f"{API}/posts", params={"status": "pending_approval"}, headers=contributor)
    assert [p["id"] for p in listed.json()["items"]] == [created["id"]]


def test_editor_post_is_approved_by_scheduling(
    client: TestClient, editor: dict[str, str], setup: dict[str, Any]
) -> None:
    created = scheduled_post(client, editor, setup["objective"], [setup["external"]])
    assert created["status"] == "scheduled"


def test_approval_for_editors_setting(
    settings: Settings, clock: Any, setup: dict[str, Any], client: TestClient
) -> None:
    from app.main import create_app
    from app.users.models import Role
    from tests.conftest import make_token

    strict = settings.model_copy(update={"approval_for_editors": True})
    runtime = Runtime.build(strict, clock=clock)
    try:
        with TestClient(create_app(runtime)) as other:
            headers = {"Authorization": f"Bearer {make_token(runtime, Role.editor)}"}
            external = scheduled_post(other, headers, setup["objective"], [setup["external"]])
            internal = scheduled_post(other, headers, setup["objective"], [setup["internal"]])
    finally:
        runtime.close()
    assert external["status"] == "pending_approval"
    assert internal["status"] == "scheduled"


def test_approve_schedules_and_refuses_author_and_non_pending(
    client: TestClient,
    contributor: dict[str, str],
    editor: dict[str, str],
    editor2: dict[str, str],
    setup: dict[str, Any],
) -> None:
    mine = scheduled_post(client, editor, setup["objective"], [setup["internal"]])
    refused = client.post(f"{API}/posts/{mine['id']}/approve", headers=editor2)
    assert refused.status_code == 409, refused.text
    theirs = scheduled_post(client, contributor, setup["objective"], [setup["internal"]])
    assert (
        client.post(f"{API}/posts/{theirs['id']}/approve", headers=contributor).status_code == 403
    )
    approved = client.post(f"{API}/posts/{theirs['id']}/approve", headers=editor)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "scheduled"
    assert [d["status"] for d in approved.json()["deliveries"]] == ["scheduled"]
    again = client.post(f"{API}/posts/{theirs['id']}/approve", headers=editor)
    assert again.status_code == 409


def test_self_approval_refused(settings: Settings, clock: Any, setup: dict[str, Any]) -> None:
    from app.main import create_app
    from app.users.models import Role
    from tests.conftest import make_token

    runtime = Runtime.build(settings.model_copy(update={"approval_for_editors": True}), clock=clock)
    try:
        with TestClient(create_app(runtime)) as other:
            headers = {"Authorization": f"Bearer {make_token(runtime, Role.editor)}"}
            mine = scheduled_post(other, headers, setup["objective"], [setup["external"]])
            answer = other.post(f"{API}/posts/{mine['id']}/approve", headers=headers)
    finally:
        runtime.close()
    assert answer.status_code == 403
    assert "own" in answer.json()["detail"]


def test_reject_sends_back_to_draft_with_comment(
    client: TestClient, contributor: dict[str, str], editor: dict[str, str], setup: dict[str, Any]
) -> None:
    created = scheduled_post(client, contributor, setup["objective"], [setup["internal"]])
    empty = client.post(
        f"{API}/posts/{created['id']}/reject", json={"comment": " "}, headers=editor
    )
    assert empty.status_code == 422
    rejected = client.post(
        f"{API}/posts/{created['id']}/reject", json={"comment": "Too salesy"}, headers=editor
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "draft"
    thread = client.get(f"{API}/posts/{created['id']}/comments", headers=contributor).json()
    assert [c["text"] for c in thread["items"]] == ["Too salesy"]
    assert thread["items"][0]["author_email"] == "editor@example.org"


def test_editing_approved_content_asks_again(
    client: TestClient,
    admin: dict[str, str],
    contributor: dict[str, str],
    editor: dict[str, str],
    setup: dict[str, Any],
) -> None:
    created = scheduled_post(client, contributor, setup["objective"], [setup["internal"]])
    client.post(f"{API}/posts/{created['id']}/approve", headers=editor)
    other = objective(client, admin, name="Fundraising")["id"]
    same = client.patch(
        f"{API}/posts/{created['id']}",
        json={"objective_ids": [setup["objective"], other]},
        headers=contributor,
    )
    assert same.json()["status"] == "scheduled"
    edited = client.patch(
        f"{API}/posts/{created['id']}", json={"text": "New words"}, headers=contributor
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "pending_approval"
    assert [d["status"] for d in edited.json()["deliveries"]] == ["draft"]


def test_pending_post_edited_by_editor_stays_pending(
    client: TestClient, contributor: dict[str, str], editor: dict[str, str], setup: dict[str, Any]
) -> None:
    created = scheduled_post(client, contributor, setup["objective"], [setup["internal"]])
    edited = client.patch(f"{API}/posts/{created['id']}", json={"text": "Fixed"}, headers=editor)
    assert edited.json()["status"] == "pending_approval"


def test_contributor_draft_is_a_draft(
    client: TestClient, contributor: dict[str, str], setup: dict[str, Any]
) -> None:
    created = post(client, contributor, text="Idea", status="draft")
    assert created["status"] == "draft"


def test_coverage_counts_pending_apart(
    client: TestClient,
    runtime: Runtime,
    contributor: dict[str, str],
    editor: dict[str, str],
    setup: dict[str, Any],
) -> None:
    created = scheduled_post(client, contributor, setup["objective"], [setup["internal"]])
    params = {"from": "2026-11-24", "to": "2026-11-24"}
    [cell] = client.get(f"{API}/coverage", params=params, headers=editor).json()
    assert (cell["planned"], cell["pending"], cell["covered"]) == (0, 1, False)
    client.post(f"{API}/posts/{created['id']}/approve", headers=editor)
    [cell] = client.get(f"{API}/coverage", params=params, headers=editor).json()
    assert (cell["planned"], cell["pending"], cell["covered"]) == (1, 0, True)
