"""Blackout days: coverage requires nothing on them; posts may still go there, with a
warning; overlapping blackouts of one scope are refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.helpers import API, locs, objective, post, row_counts, webhook_channel

# The test clock's today is Monday 23 November 2026 (London).


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "a": objective(client, admin, name="Advice")["id"],
        "b": objective(client, admin, name="Benefits")["id"],
        "hook": webhook_channel(client, admin)["id"],
    }


def _required(client: TestClient, headers: dict[str, str], day: str) -> dict[str, int]:
    response = client.get(f"{API}/coverage", params={"from": day, "to": day}, headers=headers)
    assert response.status_code == 200, response.text
    return {c["objective_id"]: c["required"] for c in response.json()}


def _blackout(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"{API}/blackouts", json=body, headers=headers)


def _open_uncovered(client: TestClient, headers: dict[str, str]) -> set[tuple[str, str]]:
    response = client.get(f"{API}/alerts", params={"status": "open"}, headers=headers)
    return {
        (a["objective_id"], a["day"])
        for a in response.json()["items"]
        if a["kind"] == "objective_uncovered"
    }


def test_coverage_requires_nothing_on_blackout_days(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    client.post(f"{API}/coverage/check", headers=editor)
    assert (world["a"], "2026-11-25") in _open_uncovered(client, editor)
    made = _blackout(
        client, editor, date_from="2026-11-25", date_to="2026-11-26", reason="Public holiday"
    )
    assert made.status_code == 201, made.text
    assert made.json()["objective_id"] is None
    for day in ("2026-11-25", "2026-11-26"):  # both days included
        assert _required(client, editor, day) == {world["a"]: 0, world["b"]: 0}
    assert _required(client, editor, "2026-11-27") == {world["a"]: 1, world["b"]: 1}
    # The day's uncovered alerts resolve with the blackout, not at the next check.
    assert not {d for _, d in _open_uncovered(client, editor)} & {"2026-11-25", "2026-11-26"}
    one = _blackout(
        client, editor, date_from="2026-11-27", date_to="2026-11-27", objective_id=world["b"]
    )
    assert one.status_code == 201, one.text
    assert _required(client, editor, "2026-11-27") == {world["a"]: 1, world["b"]: 0}
    removed = client.delete(f"{API}/blackouts/{made.json()['id']}", headers=editor)
    assert removed.status_code == 200
    assert _required(client, editor, "2026-11-25") == {world["a"]: 1, world["b"]: 1}
    assert (world["a"], "2026-11-25") in _open_uncovered(client, editor)


def test_scheduling_into_a_blackout_is_allowed_with_a_warning(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    _blackout(
        client,
        editor,
        date_from="2026-11-25",
        date_to="2026-11-25",
        objective_id=world["a"],
        reason="Mourning",
    )
    body = {"text": "Hi", "channel_ids": [world["hook"]], "objective_ids": [world["a"], world["b"]]}
    into = post(client, editor, scheduled_at="2026-11-25T10:00:00Z", **body)
    assert into["warnings"] == ["2026-11-25 is a blackout day for 'Advice': Mourning"]
    beside = post(client, editor, scheduled_at="2026-11-26T10:00:00Z", **body)
    assert beside["warnings"] == []
    moved = client.patch(
        f"{API}/posts/{beside['id']}", json={"scheduled_at": "2026-11-25T12:00:00Z"}, headers=editor
    )
    assert moved.json()["warnings"] == ["2026-11-25 is a blackout day for 'Advice': Mourning"]


def test_listing_blackouts(
    client: TestClient, editor: dict[str, str], viewer: dict[str, str], world: dict[str, Any]
) -> None:
    _blackout(client, editor, date_from="2026-12-24", date_to="2026-12-26", reason="Christmas")
    _blackout(client, editor, date_from="2026-12-01", date_to="2026-12-01", objective_id=world["a"])
    _blackout(client, editor, date_from="2026-12-02", date_to="2026-12-02", objective_id=world["b"])
    every = client.get(f"{API}/blackouts", headers=viewer).json()
    assert every["total"] == 3
    assert [b["date_from"] for b in every["items"]] == ["2026-12-01", "2026-12-02", "2026-12-24"]
    of_a = client.get(f"{API}/blackouts", params={"objective_id": world["a"]}, headers=viewer)
    assert [b["date_from"] for b in of_a.json()["items"]] == ["2026-12-01", "2026-12-24"]
    window = client.get(
        f"{API}/blackouts", params={"from": "2026-12-02", "to": "2026-12-25"}, headers=viewer
    )
    assert window.json()["total"] == 2
    page = client.get(f"{API}/blackouts", params={"limit": 1, "offset": 1}, headers=viewer).json()
    assert page["total"] == 3 and len(page["items"]) == 1


def test_bad_blackouts_are_refused_storing_nothing(
    client: TestClient,
    editor: dict[str, str],
    viewer: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
) -> None:
    _blackout(client, editor, date_from="2026-12-24", date_to="2026-12-26")
    _blackout(client, editor, date_from="2026-12-24", date_to="2026-12-26", objective_id=world["a"])
    before = row_counts(runtime)
    for body, field in (
        ({"date_from": "2026-12-26", "date_to": "2026-12-31"}, "body.date_from"),  # overlaps
        (
            {"date_from": "2026-12-20", "date_to": "2026-12-24", "objective_id": world["a"]},
            "body.date_from",
        ),
        ({"date_from": "2026-12-10", "date_to": "2026-12-09"}, "body.date_to"),
        (
            {"date_from": "2026-12-10", "date_to": "2026-12-10", "objective_id": "nope"},
            "body.objective_id",
        ),
        ({"date_from": "10/12/2026", "date_to": "2026-12-10"}, "body.date_from"),
        ({"date_from": 20261210, "date_to": "2026-12-10"}, "body.date_from"),
        ({"date_to": "2026-12-10"}, "body.date_from"),
        ({"date_from": "2026-12-10", "date_to": "2026-12-10", "reason": "x" * 501}, "body.reason"),
    ):
        response = _blackout(client, editor, **body)
        assert response.status_code == 422, (body, response.text)
        assert locs(response) == [field], body
    assert row_counts(runtime) == before
    # Another objective's days may overlap: each scope is checked on its own.
    other = _blackout(
        client, editor, date_from="2026-12-25", date_to="2026-12-25", objective_id=world["b"]
    )
    assert other.status_code == 201
    assert (
        _blackout(client, viewer, date_from="2027-01-01", date_to="2027-01-01").status_code == 403
    )
    assert client.delete(f"{API}/blackouts/nope", headers=editor).status_code == 404
