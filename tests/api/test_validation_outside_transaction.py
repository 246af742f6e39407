"""A post's platform rules run while the request holds no transaction (app/posts/rules.py).

On SQLite a request's first statement takes the write lock; validating inside that
transaction stalled every writer (the dispatcher included) for as long as the rules
ran. The probe below is the real platform rule, preceded by a check that another
connection can take the write lock at that moment."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.runtime import Runtime
from connectors.base import Problem, PublishRequest
from connectors.registry import PLATFORMS
from tests.helpers import API, objective, scheduled_post, webhook_channel


def writer_is_free(database_url: str) -> Callable[[], bool]:
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")

        def sqlite_free() -> bool:
            conn = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:  # "database is locked"
                return False
            finally:
                conn.close()

        return sqlite_free

    engine = create_engine("postgresql+psycopg://" + database_url.split("://", 1)[1])

    def postgres_free() -> bool:
        # PostgreSQL has no database-wide write lock: no other session may be inside
        # a transaction (the request's would hold its row locks while validating).
        with engine.connect() as conn:
            others = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                )
            )
        return others == 0

    return postgres_free


@pytest.fixture
def probed(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each run of the webhook platform's rules records whether the writer was free."""
    free = writer_is_free(runtime.settings.database_url)
    seen: list[bool] = []
    connector = PLATFORMS["webhook"].connector
    real = connector.validate

    def validate(cls: type, request: PublishRequest) -> list[Problem]:
        seen.append(free())
        return real(request)

    monkeypatch.setattr(connector, "validate", classmethod(validate))
    return seen


def test_creating_and_editing_a_post_validates_with_no_transaction_open(
    client: TestClient, editor: dict[str, str], admin: dict[str, str], probed: list[bool]
) -> None:
    goal = objective(client, admin)
    hook = webhook_channel(client, admin)
    made = scheduled_post(client, editor, goal["id"], [hook["id"]], text="Open day")
    changed = client.patch(
        f"{API}/posts/{made['id']}", json={"text": "Open day, 10:00"}, headers=editor
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["text"] == "Open day, 10:00"
    assert probed == [True, True]


def test_platform_problems_still_refuse_the_post(
    client: TestClient, editor: dict[str, str], admin: dict[str, str], probed: list[bool]
) -> None:
    goal = objective(client, admin)
    hook = webhook_channel(client, admin)
    response = client.post(
        f"{API}/posts",
        json={
            "text": "",  # the webhook platform needs a text
            "objective_ids": [goal["id"]],
            "channel_ids": [hook["id"]],
            "scheduled_at": "2026-11-24T10:00:00Z",
        },
        headers=editor,
    )
    assert response.status_code == 422, response.text
    assert [p["type"] for p in response.json()["detail"]] == ["platform_rule"]
    assert probed == [True]
    assert client.get(f"{API}/posts", headers=editor).json()["total"] == 0


def test_the_compose_form_and_live_check_validate_with_no_transaction_open(
    client: TestClient, admin: dict[str, str], runtime: Runtime, probed: list[bool]
) -> None:
    from app.users.models import Role
    from tests.web.test_pages import csrf, login, make_user

    goal = objective(client, admin)
    hook = webhook_channel(client, admin)
    make_user(runtime, "editor@example.org", Role.editor)
    assert login(client, "editor@example.org").status_code == 303
    token = csrf(client, "/posts/new")
    check = client.post(
        "/web/validate",
        json={"text": "Open day", "channel_ids": [hook["id"]]},
        headers={"X-CSRF-Token": token},
    )
    assert check.status_code == 200, check.text
    made = client.post(
        "/posts/new",
        data={
            "csrf_token": token,
            "text": "Open day",
            "objective_ids": goal["id"],
            "channel_ids": hook["id"],
            "day": "2026-11-25",
            "time": "10:00",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    post_id = made.headers["location"].split("/")[2].split("?")[0]
    edited = client.post(
        f"/posts/{post_id}/edit",
        data={
            "csrf_token": token,
            "text": "Open day, 10:00",
            "objective_ids": goal["id"],
            "channel_ids": hook["id"],
            "day": "2026-11-25",
            "time": "10:00",
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303, edited.text
    assert probed == [True, True, True]
