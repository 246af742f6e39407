"""Recurring posts through the API: occurrences, series edits, detached occurrences,
cancelling, the extension job, and bad rules refused with nothing stored."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.planning.series import extend_all
from app.runtime import Runtime
from tests.helpers import API, locs, objective, post, row_counts, webhook_channel, x_channel

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "hook": webhook_channel(client, admin)["id"],
        "hook2": webhook_channel(client, admin, name="Second hook")["id"],
        "x": x_channel(client, admin)["id"],
    }


def _series(
    client: TestClient, headers: dict[str, str], world: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    body = {
        "text": "Weekly tips",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "scheduled_at": "2026-11-24T09:00:00Z",  # a Tuesday, 09:00 in London
        "recurrence": "FREQ=WEEKLY;BYDAY=TU,TH",
        **fields,
    }
    return post(client, headers, **body)


def _occurrences(
    client: TestClient, headers: dict[str, str], series_id: str, **params: Any
) -> list[dict[str, Any]]:
    response = client.get(
        f"{API}/posts", headers=headers, params={"series_id": series_id, "limit": 200, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def test_occurrences_are_real_posts_up_to_the_horizon(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    first = _series(client, editor, world)
    assert first["scheduled_at"] == "2026-11-24T09:00:00Z"
    assert first["series_id"] and first["status"] == "scheduled"
    assert [c["objective_id"] for c in first["coverage"]] == [world["objective"]] * len(
        first["coverage"]
    )
    items = _occurrences(client, editor, first["series_id"])
    # Tuesdays and Thursdays for 90 days from Monday 23 November: 26 of them.
    assert len(items) == 26
    assert items[0]["id"] == first["id"]
    assert all(i["series_id"] == first["series_id"] for i in items)
    assert all(len(i["deliveries"]) == 1 for i in items)
    assert {datetime.fromisoformat(i["scheduled_at"]).weekday() for i in items} == {1, 3}
    assert items[-1]["scheduled_at"] < "2027-02-21"
    # Summer time does not start in that window: each is 09:00 UTC = 09:00 London.
    assert {i["scheduled_at"][11:] for i in items} == {"09:00:00Z"}
    # The usual filters apply within a series.
    window = {"from": "2026-12-01T00:00:00Z", "to": "2026-12-08T00:00:00Z"}
    assert len(_occurrences(client, editor, first["series_id"], **window)) == 2
    series = client.get(f"{API}/series/{first['series_id']}", headers=editor).json()
    assert series["recurrence"] == "FREQ=WEEKLY;BYDAY=TU,TH"
    assert series["timezone"] == "Europe/London" and series["time"] == "09:00"
    assert series["extended_to"] == "2027-02-21T09:00:00Z"


def test_daily_0900_across_dst_in_three_zones(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], clock: FrozenClock
) -> None:
    clock.set(datetime(2027, 3, 10, 12, tzinfo=UTC))
    for zone in ("Europe/London", "America/New_York", "Pacific/Auckland"):
        start = datetime(2027, 3, 11, 9, tzinfo=ZoneInfo(zone))
        first = _series(
            client,
            editor,
            world,
            scheduled_at=start.isoformat(),
            timezone=zone,
            recurrence="FREQ=DAILY;COUNT=30",
        )
        items = _occurrences(client, editor, first["series_id"])
        assert len(items) == 30
        local = [
            datetime.fromisoformat(i["scheduled_at"]).astimezone(ZoneInfo(zone)) for i in items
        ]
        assert {(t.hour, t.minute) for t in local} == {(9, 0)}, zone
        assert len({t.utcoffset() for t in local}) == 2, zone  # the change is inside


def test_the_first_occurrence_is_made_even_beyond_the_horizon(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    first = _series(client, editor, world, scheduled_at="2027-06-01T08:00:00Z")
    assert first["scheduled_at"] == "2027-06-01T08:00:00Z"
    assert len(_occurrences(client, editor, first["series_id"])) == 1


def test_editing_the_series_changes_attached_future_occurrences_only(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    first = _series(client, editor, world, recurrence="FREQ=DAILY;COUNT=5")
    series_id = first["series_id"]
    items = _occurrences(client, editor, series_id)
    own = client.patch(f"{API}/posts/{items[2]['id']}", json={"text": "Mine"}, headers=editor)
    assert own.status_code == 200, own.text
    changed = client.patch(
        f"{API}/series/{series_id}",
        json={"text": "Better tips", "channel_ids": [world["hook"], world["hook2"]]},
        headers=editor,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["text"] == "Better tips"
    assert len(changed.json()["changed_post_ids"]) == 4
    after = _occurrences(client, editor, series_id)
    assert [i["text"] for i in after] == ["Better tips"] * 2 + ["Mine"] + ["Better tips"] * 2
    assert [len(i["channel_ids"]) for i in after] == [2, 2, 1, 2, 2]


def test_a_new_time_of_day_moves_the_attached_occurrences(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    first = _series(client, editor, world, recurrence="FREQ=DAILY;COUNT=4")
    series_id = first["series_id"]
    detached = _occurrences(client, editor, series_id)[1]
    moved = client.patch(
        f"{API}/posts/{detached['id']}",
        json={"scheduled_at": "2026-11-25T15:00:00Z"},
        headers=editor,
    )
    assert moved.status_code == 200, moved.text
    answer = client.patch(f"{API}/series/{series_id}", json={"time": "10:30"}, headers=editor)
    assert answer.status_code == 200, answer.text
    assert answer.json()["time"] == "10:30"
    times = sorted(i["scheduled_at"] for i in _occurrences(client, editor, series_id))
    assert times == [
        "2026-11-24T10:30:00Z",
        "2026-11-25T10:30:00Z",
        "2026-11-25T15:00:00Z",  # detached: kept where it was put
        "2026-11-26T10:30:00Z",
        "2026-11-27T10:30:00Z",
    ]
    cancelled = _occurrences(client, editor, series_id, status="cancelled")
    assert len(cancelled) == 3


def test_past_and_published_occurrences_never_change(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], clock: FrozenClock
) -> None:
    first = _series(client, editor, world, recurrence="FREQ=DAILY;COUNT=3")
    clock.set(datetime(2026, 11, 25, 12, tzinfo=UTC))  # the first two are past
    answer = client.patch(
        f"{API}/series/{first['series_id']}", json={"text": "Later"}, headers=editor
    )
    assert answer.status_code == 200, answer.text
    texts = [i["text"] for i in _occurrences(client, editor, first["series_id"])]
    assert texts == ["Weekly tips", "Weekly tips", "Later"]


def test_deleting_the_series_cancels_every_future_occurrence(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    first = _series(client, editor, world, recurrence="FREQ=DAILY")
    series_id = first["series_id"]
    detached = _occurrences(client, editor, series_id)[3]
    client.patch(f"{API}/posts/{detached['id']}", json={"text": "Own"}, headers=editor)
    answer = client.delete(f"{API}/series/{series_id}", headers=editor)
    assert answer.status_code == 200, answer.text
    assert answer.json()["cancelled"] is True
    assert len(answer.json()["changed_post_ids"]) == 89  # 24 Nov to 20 Feb
    assert _occurrences(client, editor, series_id) == []
    assert len(_occurrences(client, editor, series_id, status="cancelled")) == 89
    # A cancelled series makes no more occurrences, and takes no more edits.
    assert extend_all(runtime, now=datetime(2027, 1, 1, tzinfo=UTC)) == 0
    again = client.patch(f"{API}/series/{series_id}", json={"text": "x"}, headers=editor)
    assert again.status_code == 409


def test_the_extension_job_makes_what_came_within_the_horizon(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    first = _series(client, editor, world, recurrence="FREQ=DAILY")
    series_id = first["series_id"]
    assert len(_occurrences(client, editor, series_id)) == 89  # 24 Nov to 20 Feb
    later = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)  # ten days on: to 3 March 09:30
    assert extend_all(runtime, now=later) == 11
    assert extend_all(runtime, now=later) == 0  # nothing twice
    items = _occurrences(client, editor, series_id)
    assert len(items) == 100
    assert len({i["scheduled_at"] for i in items}) == 100
    assert items[-1]["scheduled_at"] == "2027-03-03T09:00:00Z"


def test_two_processes_extending_at_once_make_each_occurrence_once(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    settings: Any,
) -> None:
    series_ids = [
        _series(client, editor, world, recurrence="FREQ=DAILY", text=f"Tip {n}")["series_id"]
        for n in range(3)
    ]
    later = datetime(2026, 12, 13, 9, 30, tzinfo=UTC)
    others = [Runtime.build(settings, clock=FrozenClock(later)) for _ in range(2)]
    made: list[int] = []
    start = threading.Barrier(len(others))

    def run(rt: Runtime) -> None:
        start.wait()
        made.append(extend_all(rt, now=later))

    threads = [threading.Thread(target=run, args=(rt,)) for rt in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for rt in others:
        rt.close()
    assert sum(made) == 3 * 21  # 21 February to 13 March, for each
    for series_id in series_ids:
        items = _occurrences(client, editor, series_id)
        assert len(items) == 110
        assert len({i["scheduled_at"] for i in items}) == 110


def _refused(
    client: TestClient, headers: dict[str, str], runtime: Runtime, body: dict[str, Any]
) -> list[str]:
    before = row_counts(runtime)
    response = client.post(f"{API}/posts", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert row_counts(runtime) == before
    return locs(response)


def test_bad_recurring_posts_are_refused_storing_nothing(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    base = {
        "text": "Tips",
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "scheduled_at": "2026-11-24T09:00:00Z",
    }
    for rule in ("FREQ=SOMETIMES", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31", "nonsense", "x" * 501):
        assert _refused(client, editor, runtime, {**base, "recurrence": rule}) == [
            "body.recurrence"
        ]
    until_before = {**base, "recurrence": "FREQ=DAILY;UNTIL=20261101"}
    assert _refused(client, editor, runtime, until_before) == ["body.recurrence"]
    no_time = {**base, "scheduled_at": None, "recurrence": "FREQ=DAILY"}
    assert _refused(client, editor, runtime, no_time) == ["body.scheduled_at"]
    now_too = {**base, "scheduled_at": None, "publish_now": True, "recurrence": "FREQ=DAILY"}
    assert _refused(client, editor, runtime, now_too) == ["body.scheduled_at"]
    zone = {**base, "recurrence": "FREQ=DAILY", "timezone": "Mars/Olympus"}
    assert _refused(client, editor, runtime, zone) == ["body.timezone"]
    # An occurrence's problem is named as the post's, once.
    too_long = {**base, "channel_ids": [world["x"]], "text": "y" * 300, "recurrence": "FREQ=DAILY"}
    assert _refused(client, editor, runtime, too_long) == ["body.text"]


def test_a_batch_holds_no_recurring_post(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    body = {"posts": [{"text": "a", "status": "draft"}, {"text": "b", "recurrence": "FREQ=DAILY"}]}
    response = client.post(f"{API}/posts/batch", json=body, headers=editor)
    assert response.status_code == 422
    assert locs(response) == ["body.posts.1.recurrence"]


def test_bad_series_edits(
    client: TestClient, editor: dict[str, str], viewer: dict[str, str], world: dict[str, Any]
) -> None:
    series_id = _series(client, editor, world, recurrence="FREQ=DAILY;COUNT=3")["series_id"]
    for body, field in (
        ({"time": "24:00"}, "body.time"),
        ({"time": "9:30"}, "body.time"),
        ({"recurrence": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "body.recurrence"),
        ({"text": None}, "body.text"),
        ({"channel_ids": ["nope"]}, "body.channel_ids.0"),
        ({"surprise": 1}, "body.surprise"),
    ):
        response = client.patch(f"{API}/series/{series_id}", json=body, headers=editor)
        assert response.status_code == 422, (body, response.text)
        assert locs(response) == [field], body
    texts = {i["text"] for i in _occurrences(client, editor, series_id)}
    assert texts == {"Weekly tips"}
    assert client.patch(f"{API}/series/{series_id}", json={}, headers=viewer).status_code == 403
    assert client.get(f"{API}/series/nope", headers=viewer).status_code == 404
    assert client.delete(f"{API}/series/nope", headers=editor).status_code == 404
