"""Bearer tokens and roles: who may read and write what."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.alerts.models import AlertKind
from app.alerts.service import open_alert
from app.config import Settings
from app.db import transaction
from app.main import create_app
from app.runtime import Runtime
from app.users.models import ApiToken, Role
from tests.conftest import make_token
from tests.helpers import (
    API,
    objective,
    row_counts,
    scheduled_post,
    set_deliveries,
    webhook_channel,
)


def _world(client: TestClient, admin: dict[str, str], runtime: Runtime) -> dict[str, Any]:
    """One of everything, made by the admin: what the other roles try to change."""
    obj = objective(client, admin)
    channel = webhook_channel(client, admin)
    created = scheduled_post(client, admin, obj["id"], [channel["id"]])
    [delivery] = created["deliveries"]
    set_deliveries(runtime, {delivery["id"]: "failed"})
    with transaction(runtime.sessions) as session:
        alert_id = open_alert(
            session,
            kind=AlertKind.delivery_failed,
            key=delivery["id"],
            message="it failed",
            now=runtime.clock.now(),
            delivery_id=delivery["id"],
        )
    return {
        "objective": obj["id"],
        "channel": channel["id"],
        "post": created["id"],
        "delivery": delivery["id"],
        "alert": alert_id,
    }


READS = [
    "/objectives",
    "/objectives/{objective}",
    "/channels",
    "/channels/{channel}",
    "/posts",
    "/posts/{post}",
    "/alerts",
]


def _writes(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", "/objectives", {"name": "Fundraising events"}),
        ("PATCH", f"/objectives/{ids['objective']}", {"name": "Renamed"}),
        ("DELETE", f"/objectives/{ids['objective']}", None),
        (
            "POST",
            "/channels",
            {
                "name": "Hook",
                "platform": "webhook",
                "audience": "internal",
                "config": {"url": "https://example.org/hook"},
            },
        ),
        ("PATCH", f"/channels/{ids['channel']}", {"name": "Renamed"}),
        ("DELETE", f"/channels/{ids['channel']}", None),
        ("POST", "/posts", {"text": "a draft", "status": "draft"}),
        ("PATCH", f"/posts/{ids['post']}", {"text": "changed"}),
        ("DELETE", f"/posts/{ids['post']}", None),
        ("POST", f"/deliveries/{ids['delivery']}/retry", None),
        ("POST", f"/alerts/{ids['alert']}/acknowledge", None),
    ]


def _snapshot(client: TestClient, headers: dict[str, str], ids: dict[str, Any]) -> list[Any]:
    return [client.get(f"{API}{path.format(**ids)}", headers=headers).json() for path in READS]


def test_401_without_a_valid_token(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    ids = _world(client, admin, runtime)
    before = row_counts(runtime)
    for headers in (
        {},
        {"Authorization": "cad_no_scheme"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer cad_not-a-real-token"},
        {"Authorization": "Bearer cad_a b c"},
    ):
        for path in READS:
            response = client.get(f"{API}{path.format(**ids)}", headers=headers)
            assert response.status_code == 401, (headers, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "token" in response.json()["detail"]
        for method, path, body in _writes(ids):
            response = client.request(method, f"{API}{path}", json=body, headers=headers)
            assert response.status_code == 401, (headers, method, path, response.text)
        # Even an unknown id answers 401, not 404: nothing is told to strangers.
        assert client.get(f"{API}/posts/nope", headers=headers).status_code == 401
    assert row_counts(runtime) == before


def test_a_revoked_token_is_refused(client: TestClient, runtime: Runtime) -> None:
    token = make_token(runtime, Role.editor)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/objectives", headers=headers).status_code == 200
    with transaction(runtime.sessions) as session:
        session.execute(update(ApiToken).values(revoked_at=datetime(2026, 11, 1, tzinfo=UTC)))
    response = client.get(f"{API}/objectives", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid or revoked token"}


def test_viewer_reads_everything_and_writes_nothing(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str], runtime: Runtime
) -> None:
    ids = _world(client, admin, runtime)
    for path in READS:
        response = client.get(f"{API}{path.format(**ids)}", headers=viewer)
        assert response.status_code == 200, (path, response.text)
    before_rows = row_counts(runtime)
    before = _snapshot(client, admin, ids)
    for method, path, body in _writes(ids):
        response = client.request(method, f"{API}{path}", json=body, headers=viewer)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["detail"].endswith("you are viewer")
    assert row_counts(runtime) == before_rows
    assert _snapshot(client, admin, ids) == before


def test_editor_cannot_manage_objectives_or_channels(
    client: TestClient, admin: dict[str, str], editor: dict[str, str], runtime: Runtime
) -> None:
    ids = _world(client, admin, runtime)
    before_rows = row_counts(runtime)
    before = _snapshot(client, admin, ids)
    for method, path, body in _writes(ids)[:6]:
        response = client.request(method, f"{API}{path}", json=body, headers=editor)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json() == {"detail": "this needs the admin role; you are editor"}
    assert row_counts(runtime) == before_rows
    assert _snapshot(client, admin, ids) == before


def test_editor_manages_posts_alerts_and_retries(
    client: TestClient, admin: dict[str, str], editor: dict[str, str], runtime: Runtime
) -> None:
    ids = _world(client, admin, runtime)
    response = client.post(f"{API}/deliveries/{ids['delivery']}/retry", headers=editor)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "scheduled"
    response = client.post(f"{API}/alerts/{ids['alert']}/acknowledge", headers=editor)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"

    created = client.post(
        f"{API}/posts",
        json={
            "text": "Editor's post",
            "objective_ids": [ids["objective"]],
            "channel_ids": [ids["channel"]],
            "scheduled_at": "2026-11-25T12:00:00Z",
        },
        headers=editor,
    )
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]
    patched = client.patch(f"{API}/posts/{post_id}", json={"text": "Edited"}, headers=editor)
    assert patched.status_code == 200, patched.text
    assert patched.json()["text"] == "Edited"
    assert patched.json()["updated_by_id"] == created.json()["created_by_id"]
    cancelled = client.delete(f"{API}/posts/{post_id}", headers=editor)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


def test_admin_may_do_everything(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    ids = _world(client, admin, runtime)
    writes = _writes(ids)
    # Deletes last: an archived objective or disabled channel would refuse the post's edit.
    for index in (0, 1, 3, 4, 6, 9, 10, 7, 8, 2, 5):
        method, path, body = writes[index]
        response = client.request(method, f"{API}{path}", json=body, headers=admin)
        assert response.status_code < 300, (method, path, response.text)


def test_cli_token_create_prints_a_working_token(sqlite_template: Path, tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    shutil.copy(sqlite_template, db)
    env = {
        **os.environ,
        "CADENCE_DATABASE_URL": f"sqlite:///{db}",
        "CADENCE_SECRET_KEY": "cli-test-secret-of-at-least-32-bytes",
        "CADENCE_KEY_FILE": str(tmp_path / "unused.key"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "token",
            "create",
            "--email",
            "Champion@Example.org",
            "--role",
            "editor",
        ],
        cwd=tmp_path,  # no stray .env is read
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cad_")
    assert "champion@example.org (editor)" in result.stderr
    assert not (tmp_path / "unused.key").exists()

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{db}",
        secret_key="cli-test-secret-of-at-least-32-bytes",
        media_dir=tmp_path / "media",
        key_file=tmp_path / "unused.key",
    )
    runtime = Runtime.build(settings)
    try:
        with TestClient(create_app(runtime)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get(f"{API}/objectives", headers=headers).json() == {
                "items": [],
                "total": 0,
            }
            refused = client.post(f"{API}/objectives", json={"name": "X"}, headers=headers)
            assert refused.status_code == 403
            draft = client.post(
                f"{API}/posts", json={"text": "hi", "status": "draft"}, headers=headers
            )
            assert draft.status_code == 201, draft.text
            wrong = {"Authorization": f"Bearer {token}x"}
            assert client.get(f"{API}/objectives", headers=wrong).status_code == 401
    finally:
        runtime.close()
