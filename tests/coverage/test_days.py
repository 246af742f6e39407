"""Coverage counts posts on the objective's local calendar days, DST days included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.coverage.days import day_bounds
from tests.helpers import API, objective, post, webhook_channel

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def coverage(
    client: TestClient, headers: dict[str, str], obj: dict[str, Any], start: str, end: str
) -> dict[str, dict[str, Any]]:
    response = client.get(
        f"{API}/coverage",
        params={"from": start, "to": end, "objective_id": obj["id"], "include": "post_ids"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return {cell["day"]: cell for cell in response.json()}


def schedule_at(
    client: TestClient,
    headers: dict[str, str],
    obj: dict[str, Any],
    channel: dict[str, Any],
    *moments: str,
) -> list[str]:
    return [
        post(
            client,
            headers,
            text=f"at {m}",
            objective_ids=[obj["id"]],
            channel_ids=[channel["id"]],
            scheduled_at=m,
        )["id"]
        for m in moments
    ]


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/London", date(2026, 3, 29), 23),  # clocks go forward
        ("Europe/London", date(2026, 10, 25), 25),  # clocks go back
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Pacific/Auckland", date(2026, 4, 5), 25),
        ("Pacific/Auckland", date(2026, 9, 27), 23),
        ("Asia/Kolkata", date(2026, 3, 29), 24),
    ],
)
def test_daylight_saving_days_are_one_day(zone: str, day: date, hours: int) -> None:
    start, end = day_bounds(day, zone)
    assert (end - start).total_seconds() == hours * 3600


@pytest.mark.parametrize(
    ("zone", "inside", "before", "after", "day"),
    [
        # London, the 25-hour day: 00:00 BST is 23:00 UTC the day before; 24:00 GMT is 00:00 UTC.
        (
            "Europe/London",
            ["2026-10-24T23:00:00Z", "2026-10-25T23:59:59Z"],
            "2026-10-24T22:59:59Z",
            "2026-10-26T00:00:00Z",
            "2026-10-25",
        ),
        # London, the 23-hour day: 00:00 GMT to 24:00 BST (23:00 UTC).
        (
            "Europe/London",
            ["2026-03-29T00:00:00Z", "2026-03-29T22:59:59Z"],
            "2026-03-28T23:59:59Z",
            "2026-03-29T23:00:00Z",
            "2026-03-29",
        ),
        # New York, the 25-hour day: 04:00 UTC (EDT midnight) to 05:00 UTC next day (EST).
        (
            "America/New_York",
            ["2026-11-01T04:00:00Z", "2026-11-02T04:59:59Z"],
            "2026-11-01T03:59:59Z",
            "2026-11-02T05:00:00Z",
            "2026-11-01",
        ),
        # Auckland, the 23-hour spring day: 00:00 NZST (12:00 UTC the day before) to 00:00 NZDT (11:00 UTC).
        (
            "Pacific/Auckland",
            ["2026-09-26T12:00:00Z", "2026-09-27T10:59:59Z"],
            "2026-09-26T11:59:59Z",
            "2026-09-27T11:00:00Z",
            "2026-09-27",
        ),
        # Kolkata, half-hour offset, no daylight saving.
        (
            "Asia/Kolkata",
            ["2026-06-14T18:30:00Z", "2026-06-15T18:29:59Z"],
            "2026-06-14T18:29:59Z",
            "2026-06-15T18:30:00Z",
            "2026-06-15",
        ),
    ],
)
def test_posts_land_on_the_objectives_local_day(
    client: TestClient,
    admin: dict[str, str],
    clock: FrozenClock,
    zone: str,
    inside: list[str],
    before: str,
    after: str,
    day: str,
) -> None:
    clock.set(JAN_1)
    obj = objective(client, admin, name=f"Local {zone}", timezone=zone, min_posts_per_day=2)
    channel = webhook_channel(client, admin)
    inside_ids = schedule_at(client, admin, obj, channel, *inside)
    schedule_at(client, admin, obj, channel, before, after)
    target = date.fromisoformat(day)
    cells = coverage(
        client,
        admin,
        obj,
        (target - timedelta(days=2)).isoformat(),
        (target + timedelta(days=2)).isoformat(),
    )
    cell = cells[day]
    assert cell["planned"] == 2
    assert sorted(cell["planned_post_ids"]) == sorted(inside_ids)
    assert cell["required"] == 2 and cell["covered"] is True
    assert sum(c["planned"] for c in cells.values()) == 4


def test_inactive_weekdays_and_archived_objectives_require_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    # 2026-11-23 is a Monday; weekdays only.
    obj = objective(client, admin, name="Weekdays", active_weekdays=[0, 1, 2, 3, 4])
    cells = coverage(client, admin, obj, "2026-11-23", "2026-11-29")
    assert [cells[d]["required"] for d in sorted(cells)] == [1, 1, 1, 1, 1, 0, 0]
    assert cells["2026-11-28"]["covered"] is True
    client.patch(f"{API}/objectives/{obj['id']}", json={"archived": True}, headers=admin)
    cells = coverage(client, admin, obj, "2026-11-23", "2026-11-29")
    assert all(c["required"] == 0 and c["covered"] for c in cells.values())
    # Archived objectives leave the overview unless asked for by id.
    overview = client.get(
        f"{API}/coverage", params={"from": "2026-11-23", "to": "2026-11-23"}, headers=admin
    ).json()
    assert overview == []


def test_drafts_cancelled_and_failed_posts_do_not_count(
    client: TestClient, admin: dict[str, str], runtime: Any
) -> None:
    from sqlalchemy import update

    from app.db import transaction
    from app.posts.models import Delivery

    obj = objective(client, admin, min_posts_per_day=1)
    hook = webhook_channel(client, admin)
    at = "2026-11-24T10:00:00Z"
    post(
        client,
        admin,
        text="draft",
        objective_ids=[obj["id"]],
        channel_ids=[hook["id"]],
        scheduled_at=at,
        status="draft",
    )
    cancelled = post(
        client,
        admin,
        text="cancelled",
        objective_ids=[obj["id"]],
        channel_ids=[hook["id"]],
        scheduled_at=at,
    )
    client.delete(f"{API}/posts/{cancelled['id']}", headers=admin)
    failed = post(
        client,
        admin,
        text="failed",
        objective_ids=[obj["id"]],
        channel_ids=[hook["id"]],
        scheduled_at=at,
    )
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Delivery).where(Delivery.post_id == failed["id"]).values(status="failed")
        )
    cell = coverage(client, admin, obj, "2026-11-24", "2026-11-24")["2026-11-24"]
    assert (cell["planned"], cell["covered"]) == (0, False)
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Delivery).where(Delivery.post_id == failed["id"]).values(status="published")
        )
    cell = coverage(client, admin, obj, "2026-11-24", "2026-11-24")["2026-11-24"]
    assert (cell["planned"], cell["published"], cell["covered"]) == (1, 1, True)


def test_bad_ranges_are_refused(client: TestClient, admin: dict[str, str]) -> None:
    for params in (
        {"from": "2026-11-24", "to": "2026-11-23"},
        {"from": "2026-01-01", "to": "2027-06-01"},
        {"from": "tomorrow", "to": "2026-11-23"},
        {"to": "2026-11-23"},
    ):
        response = client.get(f"{API}/coverage", params=params, headers=admin)
        assert response.status_code == 422, params
