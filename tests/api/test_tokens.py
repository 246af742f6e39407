"""API tokens: listed, revoked, expiring; users disabled and their roles changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.clock import FrozenClock
from app.db import transaction
from app.runtime import Runtime
from app.users.models import ApiToken, Role
from tests.conftest import NOW, make_token
from tests.helpers import API


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post(f"{API}/tokens", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_new_token_is_shown_once_and_works(client: TestClient, editor: dict[str, str]) -> None:
    created = new_token(client, editor, name="laptop")
    assert set(created) == {"id", "name", "token", "expires_at"}
    assert created["token"].startswith("cad_") and created["expires_at"] is None
    listed = client.get(f"{API}/tokens", headers=editor).json()
    assert created["token"] not in str(listed)
    [mine] = [t for t in listed["items"] if t["id"] == created["id"]]
    assert mine["name"] == "laptop" and mine["user_email"] == "editor@example.org"
    assert mine["role"] == "editor" and mine["last_used_at"] is None
    assert set(mine) == {
        "id",
        "name",
        "user_id",
        "user_email",
        "role",
        "created_at",
        "expires_at",
        "last_used_at",
    }
    assert client.get(f"{API}/objectives", headers=bearer(created["token"])).status_code == 200


def test_people_list_their_own_tokens_and_admins_list_all(
    client: TestClient, admin: dict[str, str], editor: dict[str, str], viewer: dict[str, str]
) -> None:
    def owners(headers: dict[str, str]) -> set[str]:
        answer = client.get(f"{API}/tokens", headers=headers)
        assert answer.status_code == 200, answer.text
        return {t["user_email"] for t in answer.json()["items"]}

    assert owners(viewer) == {"viewer@example.org"}
    assert owners(editor) == {"editor@example.org"}
    assert owners(admin) == {"admin@example.org", "editor@example.org", "viewer@example.org"}


def test_revoking_a_token(
    client: TestClient, admin: dict[str, str], editor: dict[str, str], viewer: dict[str, str]
) -> None:
    mine = new_token(client, editor, name="to revoke")
    theirs = new_token(client, viewer, name="the viewer's")
    # Someone else's token is not found for a non-admin, and stays usable.
    assert client.delete(f"{API}/tokens/{theirs['id']}", headers=editor).status_code == 404
    assert client.get(f"{API}/posts", headers=bearer(theirs["token"])).status_code == 200
    assert client.delete(f"{API}/tokens/{mine['id']}", headers=editor).status_code == 204
    refused = client.get(f"{API}/posts", headers=bearer(mine["token"]))
    assert refused.status_code == 401 and refused.json() == {"detail": "invalid or revoked token"}
    assert client.delete(f"{API}/tokens/{mine['id']}", headers=editor).status_code == 404
    assert mine["id"] not in str(client.get(f"{API}/tokens", headers=editor).json())
    # An admin revokes anyone's.
    assert client.delete(f"{API}/tokens/{theirs['id']}", headers=admin).status_code == 204
    assert client.get(f"{API}/posts", headers=bearer(theirs["token"])).status_code == 401


def test_an_expired_token_is_refused(
    client: TestClient, editor: dict[str, str], clock: FrozenClock
) -> None:
    created = new_token(client, editor, expires_at=(NOW + timedelta(hours=1)).isoformat())
    assert created["expires_at"] == "2026-11-23T10:00:00Z"
    assert client.get(f"{API}/posts", headers=bearer(created["token"])).status_code == 200
    clock.advance(hours=1)
    assert client.get(f"{API}/posts", headers=bearer(created["token"])).status_code == 401


@pytest.mark.parametrize(
    "expires_at", ["2026-11-23T09:00:00Z", "2020-01-01T00:00:00Z", "2026-11-24T10:00:00"]
)
def test_expiry_must_be_a_future_time_with_an_offset(
    client: TestClient, editor: dict[str, str], expires_at: str
) -> None:
    answer = client.post(f"{API}/tokens", json={"expires_at": expires_at}, headers=editor)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "expires_at"]


def test_last_used_is_written_at_most_once_a_minute(
    client: TestClient, runtime: Runtime, clock: FrozenClock
) -> None:
    headers = bearer(make_token(runtime, Role.viewer))

    def last_used() -> Any:
        with runtime.sessions() as session:
            return session.scalar(select(ApiToken.last_used_at))

    assert client.get(f"{API}/posts", headers=headers).status_code == 200
    assert last_used() == NOW
    clock.advance(seconds=59)
    client.get(f"{API}/posts", headers=headers)
    assert last_used() == NOW  # not rewritten
    clock.advance(seconds=1)
    client.get(f"{API}/posts", headers=headers)
    assert last_used() == NOW + timedelta(minutes=1)


def _user_id(client: TestClient, admin: dict[str, str], email: str) -> str:
    users = client.get(f"{API}/users", headers=admin).json()["items"]
    return next(u["id"] for u in users if u["email"] == email)  # type: ignore[no-any-return]


def test_disabling_a_person_ends_their_tokens_at_once(
    client: TestClient, admin: dict[str, str], editor: dict[str, str]
) -> None:
    second = new_token(client, editor)
    editor_id = _user_id(client, admin, "editor@example.org")
    answer = client.patch(f"{API}/users/{editor_id}", json={"active": False}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False
    for headers in (editor, bearer(second["token"])):
        assert client.get(f"{API}/posts", headers=headers).status_code == 401
    # Enabling them again does not bring the revoked tokens back.
    assert (
        client.patch(f"{API}/users/{editor_id}", json={"active": True}, headers=admin).status_code
        == 200
    )
    assert client.get(f"{API}/posts", headers=editor).status_code == 401


def test_admins_list_people_and_change_roles(
    client: TestClient, admin: dict[str, str], editor: dict[str, str]
) -> None:
    listed = client.get(f"{API}/users", headers=admin).json()
    assert listed["total"] == 2
    assert {u["email"]: u["role"] for u in listed["items"]} == {
        "admin@example.org": "admin",
        "editor@example.org": "editor",
    }
    assert all(u["active"] for u in listed["items"]) and "password_hash" not in str(listed)
    editor_id = _user_id(client, admin, "editor@example.org")
    assert client.get(f"{API}/users", headers=editor).status_code == 403
    refused = client.patch(f"{API}/users/{editor_id}", json={"role": "admin"}, headers=editor)
    assert refused.status_code == 403
    changed = client.patch(f"{API}/users/{editor_id}", json={"role": "viewer"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["role"] == "viewer"
    assert client.post(f"{API}/objectives", json={"name": "X"}, headers=editor).status_code == 403


def test_bad_user_changes_are_refused_by_name(
    client: TestClient, admin: dict[str, str], editor: dict[str, str]
) -> None:
    editor_id = _user_id(client, admin, "editor@example.org")
    admin_id = _user_id(client, admin, "admin@example.org")
    for body, loc in (
        ({"role": "owner"}, ["body", "role"]),
        ({"active": "perhaps"}, ["body", "active"]),
        ({"active": None}, ["body", "active"]),
        ({"email": "x@example.org"}, ["body", "email"]),
    ):
        answer = client.patch(f"{API}/users/{editor_id}", json=body, headers=admin)
        assert answer.status_code == 422, body
        assert answer.json()["detail"][0]["loc"] == loc
    assert client.patch(f"{API}/users/nope", json={}, headers=admin).status_code == 404
    # The last active admin can neither be disabled nor demoted.
    for body in ({"active": False}, {"role": "editor"}):
        answer = client.patch(f"{API}/users/{admin_id}", json=body, headers=admin)
        assert answer.status_code == 409 and "last active admin" in answer.text
    assert client.get(f"{API}/users", headers=admin).status_code == 200


def test_cli_lists_and_revokes_tokens(
    client: TestClient, runtime: Runtime, editor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import main
    from app.config import get_settings

    created = new_token(client, editor, name="ci job")
    monkeypatch.setenv("CADENCE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CADENCE_SECRET_KEY", "test-secret-key-of-at-least-32-bytes")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        listed = runner.invoke(main, ["token", "list"])
        assert listed.exit_code == 0, listed.output
        [row] = [line for line in listed.output.splitlines() if created["id"] in line]
        assert "ci job" in row and "editor@example.org" in row and "editor" in row
        assert created["token"] not in listed.output
        revoked = runner.invoke(main, ["token", "revoke", created["id"]])
        assert revoked.exit_code == 0 and f"token {created['id']} revoked" in revoked.output
        again = runner.invoke(main, ["token", "revoke", created["id"]])
        assert again.exit_code != 0 and "there is no token" in again.output
        assert created["id"] not in runner.invoke(main, ["token", "list"]).output
    finally:
        get_settings.cache_clear()
    assert client.get(f"{API}/posts", headers=bearer(created["token"])).status_code == 401
    with transaction(runtime.sessions) as session:
        assert session.get(ApiToken, created["id"]).revoked_at is not None  # type: ignore[union-attr]
