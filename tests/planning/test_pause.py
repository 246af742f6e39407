"""The pause switch: read by every claim in every process; alerts still go out; a
window that passes while paused ends `missed_window`; resume publishes each once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.announce import announce
from app.alerts.models import Alert
from app.clock import FrozenClock
from app.config import Settings
from app.db import transaction
from app.posts.models import Delivery, Post
from app.runtime import Runtime
from tests.helpers import API, locs, objective, webhook_channel
from tests.publishing.test_claims import claim, schedule


@pytest.fixture
def other(settings: Settings, clock: FrozenClock) -> Iterator[Runtime]:
    """Another process: its own engine and sessions on the same database."""
    runtime = Runtime.build(settings, clock=clock)
    yield runtime
    runtime.close()


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin),
        "internal": webhook_channel(client, admin, name="Intranet"),
        "external": webhook_channel(
            client, admin, name="Partners", audience="external", url="https://partners.example/h"
        ),
    }


def _pause(client: TestClient, headers: dict[str, str], scope: str, reason: str) -> Any:
    response = client.post(f"{API}/pause", json={"scope": scope, "reason": reason}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _channels(jobs: list[Any]) -> set[str]:
    return {job.channel_id for job in jobs}


def test_pause_in_one_process_stops_claims_in_another(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    other: Runtime,
    clock: FrozenClock,
) -> None:
    at = "2026-11-23T09:00:00Z"
    schedule(client, editor, world["objective"], [world["internal"], world["external"]], at)
    schedule(client, editor, world["objective"], [world["internal"], world["external"]], at)
    answer = _pause(client, editor, "external", "A period of mourning")
    assert answer["paused"] is True and answer["paused_by"] == "editor@example.org"
    # The other process's next claim (its next dispatch tick) holds the external ones.
    assert _channels(claim(other)) == {world["internal"]["id"]}
    _pause(client, editor, "all", "Account compromised?")
    clock.advance(seconds=5)
    assert claim(other) == []
    assert client.delete(f"{API}/pause", headers=editor).json() == {
        "paused": False,
        "scope": None,
        "reason": None,
        "paused_by_id": None,
        "paused_by": None,
        "paused_at": None,
    }
    # On resume each held delivery goes out once: the rest of the queue, nothing twice.
    resumed = claim(other, limit=10, per_channel=5)
    assert _channels(resumed) == {world["internal"]["id"], world["external"]["id"]}
    assert len(resumed) == 3
    assert claim(other, owner="w2", limit=10, per_channel=5) == []


def test_a_window_passing_while_paused_ends_missed_window(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    schedule(client, editor, world["objective"], [world["external"]], "2026-11-23T10:00:00Z")
    _pause(client, editor, "all", "Holding everything")
    clock.set(clock.now() + timedelta(hours=2))
    assert claim(runtime) == []
    clock.set(clock.now() + runtime.settings.max_lateness)
    assert claim(runtime) == []
    with runtime.sessions() as session:
        [delivery] = session.scalars(select(Delivery)).all()
        assert delivery.status == "failed" and delivery.error_kind == "missed_window"


def test_pause_and_resume_are_announced_and_alerts_are_never_held(
    client: TestClient, admin: dict[str, str], editor: dict[str, str], runtime: Runtime
) -> None:
    alerts = webhook_channel(client, admin, name="Alerts room", receives_alerts=True)

    def messages() -> list[str]:
        with transaction(runtime.sessions) as session:
            announce(session, now=runtime.clock.now(), base_url="http://cadence.test")
            return [p.title or "" for p in session.scalars(select(Post).order_by(Post.id))]

    _pause(client, editor, "all", "Mourning")
    state = client.get(f"{API}/pause", headers=editor).json()
    assert state["scope"] == "all" and state["reason"] == "Mourning"
    assert messages() == ["Cadence alerts: 1 need action now"]
    client.delete(f"{API}/pause", headers=editor)
    # A resumed pause is news by itself (other resolutions wait for the next message).
    assert sorted(messages()) == [
        "Cadence alerts: 0 need action now, 1 resolved",
        "Cadence alerts: 1 need action now",
    ]
    _pause(client, editor, "all", "Again")
    with transaction(runtime.sessions) as session:
        announce(session, now=runtime.clock.now(), base_url="http://cadence.test")
        texts = [p.text for p in session.scalars(select(Post))]
        kinds = {a.kind for a in session.scalars(select(Alert))}
    assert kinds == {"publishing_paused"}
    said = "- Publishing paused (every post) by editor@example.org: {}"
    assert sum(said.format("Mourning") + " http://cadence.test/alerts" in t for t in texts) == 1
    assert sum(said.format("Again") + " http://cadence.test/alerts" in t for t in texts) == 1
    [resumed] = [t for t in texts if "Resolved since the last message:" in t]
    assert said.format("Mourning") + "\n" in resumed
    # Paused or not, the announcements are claimed.
    jobs = claim(runtime, limit=10, per_channel=5)
    assert len(jobs) == 3 and _channels(jobs) == {alerts["id"]}


def test_bad_pauses(client: TestClient, editor: dict[str, str], viewer: dict[str, str]) -> None:
    for body, field in (
        ({"scope": "some", "reason": "x"}, "body.scope"),
        ({"scope": "all", "reason": "  "}, "body.reason"),
        ({"scope": "all"}, "body.reason"),
        ({"scope": "all", "reason": "x" * 501}, "body.reason"),
    ):
        response = client.post(f"{API}/pause", json=body, headers=editor)
        assert response.status_code == 422, body
        assert locs(response) == [field]
    viewer_try = client.post(f"{API}/pause", json={"scope": "all", "reason": "x"}, headers=viewer)
    assert viewer_try.status_code == 403
    assert client.get(f"{API}/pause", headers=viewer).json()["paused"] is False
