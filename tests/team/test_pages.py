"""The team workflow's pages without a browser: queue, approve/reject, comments, audit,
guardrails, and who may open them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime
from app.users.models import Role
from tests.helpers import API, HOOK_URL, objective, scheduled_post, webhook_channel
from tests.web.test_pages import csrf, login, make_user

_open: list[TestClient] = []


def person(runtime: Runtime, role: Role, email: str) -> TestClient:
    """A logged-in browser session of a new person (closed after the test)."""
    make_user(runtime, email, role)
    client = TestClient(create_app(runtime))
    client.__enter__()
    _open.append(client)
    assert login(client, email).status_code == 303
    return client


@pytest.fixture(autouse=True)
def close_sessions() -> Iterator[None]:
    yield
    while _open:
        _open.pop().__exit__(None, None, None)


@pytest.fixture
def pending(
    client: TestClient, admin: dict[str, str], contributor: dict[str, str]
) -> dict[str, Any]:
    obj = objective(client, admin)["id"]
    hook = webhook_channel(client, admin, url=HOOK_URL)["id"]
    return scheduled_post(client, contributor, obj, [hook], text="Bake sale on Friday")


def test_roles_open_the_pages(client: TestClient, runtime: Runtime) -> None:
    contributor = person(runtime, Role.contributor, "c@example.org")
    for path in ("/posts/new", "/calendar"):
        assert contributor.get(path).status_code == 200, path
    assert "Submit for approval" in contributor.get("/posts/new").text
    for path in ("/approvals", "/audit", "/guardrails", "/users"):
        assert contributor.get(path).status_code == 403, path
    editor = person(runtime, Role.editor, "e@example.org")
    for path in ("/approvals", "/audit"):
        assert editor.get(path).status_code == 200, path
    assert editor.get("/guardrails").status_code == 403
    assert ">Schedule<" in editor.get("/posts/new").text
    admin = person(runtime, Role.admin, "a@example.org")
    assert admin.get("/guardrails").status_code == 200
    viewer = person(runtime, Role.viewer, "v@example.org")
    assert viewer.get("/approvals").status_code == 403
    assert viewer.get("/posts/new").status_code == 403


def test_queue_approve_and_history(
    runtime: Runtime, pending: dict[str, Any], client: TestClient, admin: dict[str, str]
) -> None:
    editor = person(runtime, Role.editor, "e@example.org")
    queue = editor.get("/approvals")
    assert "Bake sale on Friday" in queue.text
    token = csrf(editor, "/approvals")
    done = editor.post(
        f"/posts/{pending['id']}/approve?from=queue",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/approvals")
    assert client.get(f"{API}/posts/{pending['id']}", headers=admin).json()["status"] == (
        "scheduled"
    )
    page = editor.get(f"/posts/{pending['id']}").text
    actions = re.findall(r'<tr class="audit-(\w+)">', page)
    assert actions == ["approve", "submit", "create"]
    assert "Nothing waits for approval." in editor.get("/approvals").text


def test_reject_with_comment_shows_in_the_thread(runtime: Runtime, pending: dict[str, Any]) -> None:
    editor = person(runtime, Role.editor, "e@example.org")
    token = csrf(editor, f"/posts/{pending['id']}")
    refused = editor.post(f"/posts/{pending['id']}/reject", data={"csrf_token": token})
    assert refused.status_code == 422
    done = editor.post(
        f"/posts/{pending['id']}/reject",
        data={"csrf_token": token, "comment": "Add the address"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = editor.get(f"/posts/{pending['id']}").text
    assert "Add the address" in page and "Draft" in page
    contributor = person(runtime, Role.contributor, "contributor@example.org")
    token = csrf(contributor, f"/posts/{pending['id']}")
    contributor.post(
        f"/posts/{pending['id']}/comments", data={"csrf_token": token, "text": "Done it"}
    )
    assert "Done it" in contributor.get(f"/posts/{pending['id']}").text


def test_guardrails_page_adds_refuses_and_removes(runtime: Runtime) -> None:
    admin = person(runtime, Role.admin, "a@example.org")
    token = csrf(admin, "/guardrails")
    empty = admin.post("/guardrails", data={"csrf_token": token, "phrase": "  "})
    assert empty.status_code == 422 and "at least one word" in empty.text
    added = admin.post(
        "/guardrails",
        data={"csrf_token": token, "phrase": "Project Falcon", "action": "block",
              "audience": "all", "note": "code name"},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    page = admin.get("/guardrails").text
    assert "Project Falcon" in page
    rule_id = re.search(r"/guardrails/(\w+)/delete", page)
    assert rule_id
    admin.post(f"/guardrails/{rule_id.group(1)}/delete", data={"csrf_token": token})
    assert "No guardrails yet." in admin.get("/guardrails").text
    assert "guardrail" in admin.get("/audit?subject_type=guardrail").text


def test_the_live_check_shows_guardrail_matches(
    runtime: Runtime, client: TestClient, admin: dict[str, str]
) -> None:
    hook = webhook_channel(client, admin, url=HOOK_URL, audience="external", name="Out")
    client.post(
        f"{API}/guardrails",
        json={"phrase": "Project Falcon", "audience": "external", "note": "code name"},
        headers=admin,
    )
    contributor = person(runtime, Role.contributor, "c@example.org")
    token = csrf(contributor, "/posts/new")
    answer = contributor.post(
        "/web/validate",
        json={"text": "About project falcon", "channel_ids": [hook["id"]]},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    [match] = answer.json()["guardrails"]
    assert match["phrase"] == "Project Falcon" and match["action"] == "block"
    assert "code name" in match["message"]


def test_champions_page_and_profile_badge(runtime: Runtime) -> None:
    from datetime import UTC, datetime

    from app.db import transaction
    from app.team.models import TwophyAward
    from app.users.models import User

    contributor = person(runtime, Role.contributor, "champ@example.org")
    with transaction(runtime.sessions) as session:
        user = session.query(User).filter_by(email="champ@example.org").one()
        session.add(
            TwophyAward(
                week="2026-W47",
                user_id=user.id,
                published=4,
                awarded_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
            )
        )
    page = contributor.get("/champions")
    assert page.status_code == 200 and "Champions of 2026-W48" in page.text
    assert "2026-W47: champ@example.org" in page.text
    assert contributor.get("/champions?week=nope").status_code == 422
    assert "Twophy winner: 2026-W47" in contributor.get("/profile").text


def test_the_heatmap_says_covered_if_approved(runtime: Runtime, pending: dict[str, Any]) -> None:
    viewer = person(runtime, Role.viewer, "v@example.org")
    page = viewer.get("/coverage").text
    assert "1 awaiting approval: covered if approved" in page


def test_the_users_page_offers_the_contributor_role(runtime: Runtime) -> None:
    admin = person(runtime, Role.admin, "a@example.org")
    assert '<option value="contributor"' in admin.get("/users").text
    token = csrf(admin, "/users")
    saved = admin.post(
        "/users",
        data={"csrf_token": token, "email": "new@example.org", "role": "contributor"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "new@example.org" in admin.get("/audit?subject_type=user").text


def test_admins_set_requires_approval_on_the_channel_page_and_it_is_audited(
    runtime: Runtime, client: TestClient, admin: dict[str, str]
) -> None:
    hook = webhook_channel(client, admin, url=HOOK_URL, audience="external", name="Out")
    page_admin = person(runtime, Role.admin, "a@example.org")
    assert "Stop requiring approval" in page_admin.get(f"/channels/{hook['id']}").text
    token = csrf(page_admin, f"/channels/{hook['id']}")
    done = page_admin.post(
        f"/channels/{hook['id']}/approval",
        data={"csrf_token": token, "requires_approval": "off"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert (
        client.get(f"{API}/channels/{hook['id']}", headers=admin).json()["requires_approval"]
        is False
    )
    trail = client.get(f"{API}/audit", params={"subject_type": "channel"}, headers=admin).json()
    assert trail["items"][0]["changes"] == {"requires_approval": [True, False]}
    assert trail["items"][0]["token_id"] is None  # a web page's change
    editor = person(runtime, Role.editor, "e@example.org")
    token = csrf(editor, "/calendar")
    refused = editor.post(
        f"/channels/{hook['id']}/approval", data={"csrf_token": token, "requires_approval": "on"}
    )
    assert refused.status_code == 403


def test_a_profile_change_is_audited_without_the_password(
    runtime: Runtime, client: TestClient, admin: dict[str, str]
) -> None:
    from tests.web.test_pages import PASSWORD

    someone = person(runtime, Role.viewer, "v@example.org")
    token = csrf(someone, "/profile")
    new = "a brand new and long passphrase"
    done = someone.post(
        "/profile",
        data={"csrf_token": token, "timezone": "Europe/Paris", "current_password": PASSWORD,
              "new_password": new, "confirm_password": new},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    trail = client.get(f"{API}/audit", params={"subject_type": "user"}, headers=admin)
    assert new not in trail.text and PASSWORD not in trail.text
    assert trail.json()["items"][0]["changes"] == {
        "credentials": [None, "changed"],
        "timezone": [None, "Europe/Paris"],
    }
