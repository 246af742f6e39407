"""The engagement report: per objective and per channel, per week or month, totals,
the median per post, the best post and clicks; JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db import transaction
from app.insights.models import DeliveryMetric, TrackedLink
from app.runtime import Runtime
from tests.helpers import API, objective, webhook_channel
from tests.insights.conftest import published


def reading(runtime: Runtime, delivery_id: str, at: datetime, **figures: int | None) -> None:
    with transaction(runtime.sessions) as session:
        session.add(DeliveryMetric(delivery_id=delivery_id, fetched_at=at, **figures))


def clicks(runtime: Runtime, delivery_id: str, n: int, at: datetime) -> None:
    with transaction(runtime.sessions) as session:
        session.add(
            TrackedLink(
                code=f"c{delivery_id[:9]}",
                delivery_id=delivery_id,
                url="https://example.org/",
                clicks=n,
                bot_clicks=7,
                created_at=at,
            )
        )


def setup(client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock) -> dict:
    goal = objective(client, admin, name="Events")
    hook = webhook_channel(client, admin, name="Intranet")["id"]
    # Monday 2026-11-16 and Monday 2026-11-23 (the clock's day): two weeks.
    week1 = published(
        client,
        admin,
        runtime,
        hook,
        ["a", "b", "c"],
        at=clock.now() - timedelta(days=7),
        objective_id=goal["id"],
        text="Week one",
    )
    week2 = published(
        client, admin, runtime, hook, ["d"], at=clock.now(), objective_id=goal["id"], text="Two"
    )
    at = clock.now()
    reading(runtime, week1[0][1], at - timedelta(days=1), likes=1, reposts=0, replies=0, views=5)
    reading(runtime, week1[0][1], at, likes=10, reposts=2, replies=1, views=100)
    reading(runtime, week1[1][1], at, likes=3, reposts=None, replies=None, views=None)
    clicks(runtime, week1[2][1], 4, at)
    reading(runtime, week2[0][1], at, likes=7, reposts=1, replies=0, views=50)
    return {"goal": goal, "hook": hook, "week1": week1, "week2": week2}


def test_weekly_engagement_per_objective_and_channel(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    made = setup(client, admin, runtime, clock)
    answer = client.get(
        f"{API}/reports/engagement",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["by"] == "week"
    rows = {(r["kind"], r["period_start"]): r for r in body["rows"]}
    first = rows[("objective", "2026-11-16")]
    assert (first["posts"], first["likes"], first["reposts"], first["replies"]) == (3, 13, 2, 1)
    assert (first["views"], first["clicks"], first["engagement"]) == (100, 4, 20)
    assert first["median_engagement"] == 4.0  # 13, 3 and 4
    assert first["best_post_id"] == made["week1"][0][0]
    assert first["best_post_title"] == "Week one 0"
    assert first["best_post_engagement"] == 13
    second = rows[("channel", "2026-11-23")]
    assert (second["name"], second["posts"], second["engagement"]) == ("Intranet", 1, 8)


def test_monthly_engagement_as_csv(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    setup(client, admin, runtime, clock)
    answer = client.get(
        f"{API}/reports/engagement",
        params={"from": "2026-11-01", "to": "2026-11-30", "by": "month", "format": "csv"},
        headers=admin,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["kind"], r["period_start"], r["posts"], r["engagement"]) for r in rows] == [
        ("objective", "2026-11-01", "4", "28"),
        ("channel", "2026-11-01", "4", "28"),
    ]


def test_engagement_report_refuses_bad_ranges(client: TestClient, admin: dict[str, str]) -> None:
    backwards = client.get(
        f"{API}/reports/engagement",
        params={"from": "2026-11-30", "to": "2026-11-01"},
        headers=admin,
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["query", "to"]
    bad_by = client.get(
        f"{API}/reports/engagement",
        params={"from": "2026-11-01", "to": "2026-11-02", "by": "year"},
        headers=admin,
    )
    assert bad_by.status_code == 422
