"""Posting slots and the queue: a queued post takes its objective's next free slot."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.helpers import API, locs, objective, post, row_counts, webhook_channel

# The test clock: Monday 23 November 2026, 09:00 UTC (= 09:00 in London).


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "other": objective(client, admin, name="Events", timezone="America/New_York")["id"],
        "hook": webhook_channel(client, admin)["id"],
        "hook2": webhook_channel(client, admin, name="Second hook")["id"],
    }


def _put(client: TestClient, headers: dict[str, str], objective_id: str, slots: Any) -> Any:
    return client.put(f"{API}/objectives/{objective_id}/slots", json=slots, headers=headers)


def _queue(
    client: TestClient, headers: dict[str, str], world: dict[str, Any], **fields: Any
) -> Any:
    body = {"text": "Queued", "objective_ids": [world["objective"]], "queue": True, **fields}
    return client.post(f"{API}/posts", json=body, headers=headers)


def test_queued_posts_take_the_next_free_slots_in_order(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    slots = [
        {"weekday": 0, "time": "08:30", "channel_ids": [world["hook"]]},  # past today
        {"weekday": 0, "time": "17:00", "channel_ids": [world["hook"]]},
        {"weekday": 2, "time": "09:30", "channel_ids": [world["hook"], world["hook2"]]},
    ]
    answer = _put(client, editor, world["objective"], slots)
    assert answer.status_code == 200, answer.text
    assert [s["time"] for s in answer.json()] == ["08:30", "17:00", "09:30"]
    assert (
        client.get(f"{API}/objectives/{world['objective']}/slots", headers=editor).json()
        == answer.json()
    )
    # A post put in a slot by hand takes it too.
    post(
        client,
        editor,
        text="By hand",
        objective_ids=[world["objective"]],
        channel_ids=[world["hook"]],
        scheduled_at="2026-11-23T17:00:00Z",
    )
    times = []
    for _ in range(3):
        made = _queue(client, editor, world)
        assert made.status_code == 201, made.text
        times.append((made.json()["scheduled_at"], len(made.json()["channel_ids"])))
    assert times == [
        ("2026-11-25T09:30:00Z", 2),  # Wednesday; its channels come from the slot
        ("2026-11-30T08:30:00Z", 1),  # next Monday
        ("2026-11-30T17:00:00Z", 1),
    ]
    chosen = _queue(client, editor, world, channel_ids=[world["hook2"]])
    assert chosen.json()["channel_ids"] == [world["hook2"]]
    assert chosen.json()["scheduled_at"] == "2026-12-02T09:30:00Z"


def test_slot_times_are_local_to_the_objective(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    _put(
        client,
        editor,
        world["other"],
        [{"weekday": 1, "time": "09:00", "channel_ids": [world["hook"]]}],
    )
    made = _queue(client, editor, world, objective_ids=[world["other"]])
    assert made.json()["scheduled_at"] == "2026-11-24T14:00:00Z"  # 09:00 in New York


def test_queue_refusals_name_the_field_and_store_nothing(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    no_slot = _queue(client, editor, world)
    assert no_slot.status_code == 422 and locs(no_slot) == ["body.queue"]
    assert "has no posting slots" in no_slot.text
    _put(
        client,
        editor,
        world["objective"],
        [{"weekday": 3, "time": "10:00", "channel_ids": [world["hook"]]}],
    )
    before = row_counts(runtime)
    for fields, field in (
        ({"objective_ids": [world["objective"], world["other"]]}, "body.objective_ids"),
        ({"objective_ids": []}, "body.objective_ids"),
        ({"scheduled_at": "2026-11-26T10:00:00Z"}, "body.queue"),
        ({"publish_now": True}, "body.queue"),
        ({"objective_ids": ["nope"]}, "body.objective_ids.0"),
        ({"queue": 1}, "body.queue"),
    ):
        response = _queue(client, editor, world, **fields)
        assert response.status_code == 422, (fields, response.text)
        assert locs(response) == [field], fields
    assert row_counts(runtime) == before


def test_no_free_slot_in_the_horizon(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    runtime.settings.recurrence_horizon_days = 7
    _put(
        client,
        editor,
        world["objective"],
        [{"weekday": 3, "time": "10:00", "channel_ids": [world["hook"]]}],
    )
    assert _queue(client, editor, world).status_code == 201
    full = _queue(client, editor, world)
    assert full.status_code == 422 and locs(full) == ["body.queue"]
    assert "no free slot in the next 7 days" in full.text


def test_bad_slots(
    client: TestClient, editor: dict[str, str], viewer: dict[str, str], world: dict[str, Any]
) -> None:
    good = {"weekday": 0, "time": "09:30", "channel_ids": [world["hook"]]}
    for slots, field in (
        ([{**good, "weekday": 7}], "body.0.weekday"),
        ([{**good, "weekday": -1}], "body.0.weekday"),
        ([{**good, "weekday": "1"}], "body.0.weekday"),
        ([{**good, "time": "24:00"}], "body.0.time"),
        ([{**good, "time": "09:60"}], "body.0.time"),
        ([{**good, "time": "9:30"}], "body.0.time"),
        ([good, good], "body.1.time"),
        ([{**good, "channel_ids": ["nope"]}], "body.0.channel_ids.0"),
        ([{**good, "color": "red"}], "body.0.color"),
        ({"weekday": 0}, "body"),
    ):
        response = _put(client, editor, world["objective"], slots)
        assert response.status_code == 422, (slots, response.text)
        assert locs(response) == [field], slots
    assert _put(client, editor, world["objective"], [good] * 0).json() == []
    assert _put(client, viewer, world["objective"], [good]).status_code == 403
    assert _put(client, editor, "nope", [good]).status_code == 404
    assert client.get(f"{API}/objectives/nope/slots", headers=viewer).status_code == 404
