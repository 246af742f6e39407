"""The evergreen library and auto-fill: library posts stay off the calendar; uncovered
days get the least recently used one at a free slot, respecting the cooldown; once
across processes; `suggest` waits for a person."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.config import Settings
from app.planning.library import autofill_all
from app.runtime import Runtime
from tests.helpers import API, locs, objective, post, row_counts, webhook_channel, x_channel

# The test clock: Monday 23 November 2026, 09:00 in London.


@pytest.fixture
def world(client: TestClient, admin: dict[str, str], editor: dict[str, str]) -> dict[str, Any]:
    hook = webhook_channel(client, admin)["id"]
    obj = objective(client, admin, autofill="schedule", autofill_ahead_days=2)["id"]
    every_day = [{"weekday": d, "time": "10:00", "channel_ids": [hook]} for d in range(7)]
    response = client.put(f"{API}/objectives/{obj}/slots", json=every_day, headers=editor)
    assert response.status_code == 200, response.text
    return {"objective": obj, "hook": hook, "x": x_channel(client, admin)["id"]}


def _library(
    client: TestClient, headers: dict[str, str], world: dict[str, Any], text: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "text": text,
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "evergreen": True,
        **fields,
    }
    return post(client, headers, **body)


def _filled(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items = client.get(f"{API}/posts", headers=headers).json()["items"]
    return [i for i in items if i["auto_filled"]]


def test_library_posts_stay_off_the_calendar(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    kept = _library(client, editor, world, "Did you know our advice line is free?")
    assert kept["evergreen"] is True and kept["status"] == "draft"
    assert kept["scheduled_at"] is None
    assert client.get(f"{API}/posts", headers=editor).json()["total"] == 0
    shelf = client.get(f"{API}/objectives/{world['objective']}/library", headers=editor).json()
    assert [p["id"] for p in shelf["items"]] == [kept["id"]] and shelf["total"] == 1
    before = row_counts(runtime)
    # Checked as a scheduled post would be: against its channels' rules.
    too_long = client.post(
        f"{API}/posts",
        json={
            "text": "x" * 300,
            "objective_ids": [world["objective"]],
            "channel_ids": [world["x"]],
            "evergreen": True,
        },
        headers=editor,
    )
    assert too_long.status_code == 422 and locs(too_long) == ["body.text"]
    timed = client.post(
        f"{API}/posts",
        json={
            "text": "t",
            "objective_ids": [world["objective"]],
            "channel_ids": [world["hook"]],
            "evergreen": True,
            "scheduled_at": "2026-11-24T10:00:00Z",
        },
        headers=editor,
    )
    assert timed.status_code == 422 and locs(timed) == ["body.evergreen"]
    no_channel = client.post(
        f"{API}/posts",
        json={"text": "t", "objective_ids": [world["objective"]], "evergreen": True},
        headers=editor,
    )
    assert no_channel.status_code == 422 and locs(no_channel) == ["body.channel_ids"]
    assert row_counts(runtime) == before


def test_schedule_fills_each_uncovered_day_once_and_says_how(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    older = _library(client, editor, world, "Older tip")
    clock.advance(seconds=1)
    newer = _library(client, editor, world, "Newer tip")
    client.post(f"{API}/coverage/check", headers=editor)
    now = runtime.clock.now()
    assert autofill_all(runtime, now=now) == 2  # today and tomorrow
    assert autofill_all(runtime, now=now) == 0
    filled = _filled(client, editor)
    assert [(p["scheduled_at"], p["filled_from"], p["text"]) for p in filled] == [
        ("2026-11-23T10:00:00Z", older["id"], "Older tip"),
        ("2026-11-24T10:00:00Z", newer["id"], "Newer tip"),
    ]
    assert all(p["status"] == "scheduled" and p["channel_ids"] == [world["hook"]] for p in filled)
    alerts = client.get(f"{API}/alerts", params={"status": "resolved"}, headers=editor).json()
    notes = sorted(a["resolution_note"] for a in alerts["items"] if a["day"] <= "2026-11-24")
    assert notes == [
        "filled from the evergreen library with 'Newer tip'",
        "filled from the evergreen library with 'Older tip'",
    ]


def test_the_cooldown_keeps_a_post_off_a_channel(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
) -> None:
    client.patch(
        f"{API}/objectives/{world['objective']}", json={"autofill_ahead_days": 3}, headers=admin
    )
    only = _library(client, editor, world, "The only tip")
    now = runtime.clock.now()
    assert autofill_all(runtime, now=now) == 1  # then 14 days' cooldown on that channel
    runtime.settings.evergreen_cooldown_days = 0
    assert autofill_all(runtime, now=now) == 2
    assert {p["filled_from"] for p in _filled(client, editor)} == {only["id"]}
    # Used least recently first: with two posts, the new one goes before the used one.
    second = _library(client, editor, world, "A second tip")
    client.patch(
        f"{API}/objectives/{world['objective']}", json={"autofill_ahead_days": 4}, headers=admin
    )
    assert autofill_all(runtime, now=now) == 1
    assert _filled(client, editor)[-1]["filled_from"] == second["id"]


def test_two_processes_auto_filling_at_once_make_one_post_per_day(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    _library(client, editor, world, "Tip one")
    _library(client, editor, world, "Tip two")
    others = [Runtime.build(settings, clock=clock) for _ in range(2)]
    made: list[int] = []
    start = threading.Barrier(2)

    def run(rt: Runtime) -> None:
        start.wait()
        made.append(autofill_all(rt, now=clock.now()))

    threads = [threading.Thread(target=run, args=(rt,)) for rt in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for rt in others:
        rt.close()
    assert sum(made) == 2
    days = [p["scheduled_at"][:10] for p in _filled(client, editor)]
    assert days == ["2026-11-23", "2026-11-24"]


def test_suggest_waits_for_a_person_to_fill(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
) -> None:
    client.patch(
        f"{API}/objectives/{world['objective']}", json={"autofill": "suggest"}, headers=admin
    )
    tip = _library(client, editor, world, "Suggested tip")
    opened = client.post(f"{API}/coverage/check", headers=editor).json()["opened"]
    assert autofill_all(runtime, now=runtime.clock.now()) == 0
    tomorrow = next(a for a in opened if a["day"] == "2026-11-24")
    made = client.post(f"{API}/alerts/{tomorrow['id']}/fill", headers=editor)
    assert made.status_code == 201, made.text
    assert made.json()["filled_from"] == tip["id"] and made.json()["auto_filled"] is True
    assert made.json()["scheduled_at"] == "2026-11-24T10:00:00Z"
    again = client.post(f"{API}/alerts/{tomorrow['id']}/fill", headers=editor)
    assert again.status_code == 409
    today = next(a for a in opened if a["day"] == "2026-11-23")
    # The only post is in its cooldown on the channel: nothing to fill with.
    assert client.post(f"{API}/alerts/{today['id']}/fill", headers=editor).status_code == 409
    assert client.post(f"{API}/alerts/nope/fill", headers=editor).status_code == 404
    assert client.post(f"{API}/alerts/{today['id']}/fill", headers=admin).status_code in (201, 409)


def test_bad_autofill_settings(client: TestClient, admin: dict[str, str]) -> None:
    for body, field in (
        ({"name": "A", "autofill": "always"}, "body.autofill"),
        ({"name": "A", "autofill_ahead_days": 0}, "body.autofill_ahead_days"),
        ({"name": "A", "autofill_ahead_days": 31}, "body.autofill_ahead_days"),
    ):
        response = client.post(f"{API}/objectives", json=body, headers=admin)
        assert response.status_code == 422 and locs(response) == [field], body
    assert objective(client, admin)["autofill"] == "off"
