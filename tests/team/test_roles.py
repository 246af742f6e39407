"""Who may call each team workflow route: contributor, editor, admin, viewer, no token."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, HOOK_URL, objective, scheduled_post, webhook_channel

ROLES = ("none", "viewer", "contributor", "editor", "admin")
# The lowest role each route lets through (everything below gets 401/403).
ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("get", "/posts/{post}/comments", "viewer", None),
    ("post", "/posts/{post}/comments", "contributor", {"text": "Nice"}),
    ("post", "/posts/{post}/approve", "editor", None),
    ("post", "/posts/{post}/reject", "editor", {"comment": "No"}),
    ("get", "/audit", "editor", None),
    ("get", "/guardrails", "admin", None),
    ("post", "/guardrails", "admin", {"phrase": "falcon"}),
    ("get", "/guardrails/{guardrail}", "admin", None),
    ("patch", "/guardrails/{guardrail}", "admin", {"note": "n"}),
    ("delete", "/guardrails/{guardrail}", "admin", None),
    ("post", "/posts", "contributor", {"text": "draft", "status": "draft"}),
    ("post", "/deliveries/{delivery}/retry", "editor", None),
]


@pytest.mark.parametrize(("method", "path", "lowest", "body"), ROUTES)
def test_role_matrix(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    viewer: dict[str, str],
    contributor: dict[str, str],
    method: str,
    path: str,
    lowest: str,
    body: dict[str, Any] | None,
) -> None:
    headers = {
        "none": {},
        "viewer": viewer,
        "contributor": contributor,
        "editor": editor,
        "admin": admin,
    }
    obj = objective(client, admin)["id"]
    hook = webhook_channel(client, admin, url=HOOK_URL)["id"]
    for role in ROLES:
        # A fresh subject per role: a pending post by someone else, a guardrail.
        pending = scheduled_post(client, contributor, obj, [hook])
        other = client.post(
            f"{API}/guardrails", json={"phrase": f"rule {role}"}, headers=admin
        ).json()
        url = API + path.format(
            post=pending["id"], guardrail=other["id"], delivery=pending["deliveries"][0]["id"]
        )
        kwargs = {"json": body} if body is not None else {}
        answer = client.request(method.upper(), url, headers=headers[role], **kwargs)
        if role == "none":
            assert answer.status_code == 401, (role, answer.text)
        elif ROLES.index(role) < ROLES.index(lowest):
            assert answer.status_code == 403, (role, answer.text)
        else:
            # Allowed: anything but 401/403 (a retry of a draft delivery is 409).
            assert answer.status_code not in (401, 403), (role, answer.text)
            assert answer.status_code < 500


def test_contributor_from_the_cli_and_the_users_api(
    runtime: Any, client: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from app.cli import main
    from app.config import get_settings

    monkeypatch.setenv("CADENCE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CADENCE_SECRET_KEY", "test-secret-key-of-at-least-32-bytes")
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(
            main, ["token", "create", "--email", "champ@example.org", "--role", "contributor"]
        )
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    token = done.output.strip().splitlines()[-1]
    me = {"Authorization": f"Bearer {token}"}
    assert client.post(f"{API}/posts", json={"status": "draft"}, headers=me).status_code == 201
    assert client.get(f"{API}/audit", headers=me).status_code == 403
    users = client.get(f"{API}/users", headers=admin).json()["items"]
    champ = next(u for u in users if u["email"] == "champ@example.org")
    assert champ["role"] == "contributor"
    changed = client.patch(f"{API}/users/{champ['id']}", json={"role": "viewer"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["role"] == "viewer"
    back = client.patch(f"{API}/users/{champ['id']}", json={"role": "contributor"}, headers=admin)
    assert back.json()["role"] == "contributor"
    trail = client.get(f"{API}/audit", params={"subject_type": "user"}, headers=admin).json()
    assert trail["items"][0]["changes"] == {"role": ["viewer", "contributor"]}
