"""The approval sweep: approvers told once a minute, overdue alerts, missed windows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.runtime import Runtime
from app.team.jobs import run_sweep
from tests.helpers import API, HOOK_URL, objective, scheduled_post, webhook_channel


@pytest.fixture
def setup(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "alerts": webhook_channel(client, admin, url=HOOK_URL, receives_alerts=True)["id"],
    }


def alerts(client: TestClient, headers: dict[str, str], kind: str) -> list[dict[str, Any]]:
    items = client.get(f"{API}/alerts", headers=headers, params={"limit": 1000}).json()["items"]
    return [a for a in items if a["kind"] == kind]


def test_one_notification_per_minute_of_submissions(
    client: TestClient,
    runtime: Runtime,
    clock: FrozenClock,
    contributor: dict[str, str],
    editor: dict[str, str],
    setup: dict[str, Any],
) -> None:
    for n in range(3):
        scheduled_post(client, contributor, setup["objective"], [setup["alerts"]], text=f"p{n}")
    run_sweep(runtime)  # the minute is not over yet: nothing said
    assert alerts(client, editor, "approval_requested") == []
    clock.advance(minutes=1)
    run_sweep(runtime)
    run_sweep(runtime)  # another process, the same minute: still one
    found = alerts(client, editor, "approval_requested")
    assert len(found) == 1 and found[0]["message"].startswith("3 posts")
    assert found[0]["status"] == "open"


def test_overdue_then_missed_window(
    client: TestClient,
    runtime: Runtime,
    clock: FrozenClock,
    contributor: dict[str, str],
    editor: dict[str, str],
    setup: dict[str, Any],
) -> None:
    when = clock.now() + timedelta(hours=3)
    created = scheduled_post(
        client, contributor, setup["objective"], [setup["alerts"]], when=when.isoformat()
    )
    run_sweep(runtime)
    assert alerts(client, editor, "approval_overdue") == []
    clock.advance(hours=1, minutes=1)
    run_sweep(runtime)
    overdue = alerts(client, editor, "approval_overdue")
    assert len(overdue) == 1 and overdue[0]["post_id"] == created["id"]
    clock.advance(hours=2)
    run_sweep(runtime)
    after = client.get(f"{API}/posts/{created['id']}", headers=editor).json()
    assert after["status"] == "failed"
    assert [(d["status"], d["error_kind"]) for d in after["deliveries"]] == [
        ("failed", "missed_window")
    ]
    late = client.post(f"{API}/posts/{created['id']}/approve", headers=editor)
    assert late.status_code == 409


def test_overdue_resolves_once_approved(
    client: TestClient,
    runtime: Runtime,
    clock: FrozenClock,
    contributor: dict[str, str],
    editor: dict[str, str],
    setup: dict[str, Any],
) -> None:
    when = clock.now() + timedelta(minutes=30)
    created = scheduled_post(
        client, contributor, setup["objective"], [setup["alerts"]], when=when.isoformat()
    )
    run_sweep(runtime)
    assert len(alerts(client, editor, "approval_overdue")) == 1
    client.post(f"{API}/posts/{created['id']}/approve", headers=editor)
    run_sweep(runtime)
    assert alerts(client, editor, "approval_overdue")[0]["status"] == "resolved"
