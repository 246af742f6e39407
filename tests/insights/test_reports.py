"""Engagement in the objective and channel reports (`GET /reports/objectives`): per
objective and per channel, totals over the days and per week or month, the median per
post, the best post and clicks; JSON and CSV."""

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


def report(client: TestClient, admin: dict[str, str], **params: str) -> dict:
    answer = client.get(
        f"{API}/reports/objectives",
        params={"from": "2026-11-01", "to": "2026-11-30", **params},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    body: dict = answer.json()
    return body


def test_objective_and_channel_reports_carry_weekly_engagement(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    made = setup(client, admin, runtime, clock)
    body = report(client, admin)
    assert body["by"] == "week"
    goal = next(o for o in body["objectives"] if o["objective_id"] == made["goal"]["id"])
    assert goal["published"] == 4  # the coverage part is unchanged
    total = goal["engagement"]
    assert (total["posts"], total["likes"], total["reposts"], total["replies"]) == (4, 20, 3, 1)
    assert (total["views"], total["clicks"], total["engagement"]) == (150, 4, 28)
    assert total["median_engagement"] == 6.0  # 13, 3, 4 and 8
    assert (total["best_post_id"], total["best_post_engagement"]) == (made["week1"][0][0], 13)
    weeks = {p["period_start"]: p for p in goal["engagement_by_period"]}
    assert list(weeks) == ["2026-11-16", "2026-11-23"], "oldest first"
    first = weeks["2026-11-16"]
    assert (first["posts"], first["likes"], first["reposts"], first["replies"]) == (3, 13, 2, 1)
    assert (first["views"], first["clicks"], first["engagement"]) == (100, 4, 20)
    assert first["median_engagement"] == 4.0  # 13, 3 and 4
    assert first["best_post_id"] == made["week1"][0][0]
    assert first["best_post_title"] == "Week one 0"
    assert first["best_post_engagement"] == 13
    hook = next(c for c in body["channels"] if c["channel_id"] == made["hook"])
    second = {p["period_start"]: p for p in hook["engagement_by_period"]}["2026-11-23"]
    assert (second["posts"], second["engagement"], second["best_post_title"]) == (1, 8, "Two 0")
    assert hook["engagement"]["engagement"] == 28


def test_a_quiet_objective_has_zero_engagement_and_no_periods(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    setup(client, admin, runtime, clock)
    quiet = objective(client, admin, name="Quiet")
    body = report(client, admin)
    row = next(o for o in body["objectives"] if o["objective_id"] == quiet["id"])
    assert row["engagement"]["posts"] == 0 and row["engagement"]["median_engagement"] is None
    assert row["engagement"]["best_post_id"] is None and row["engagement_by_period"] == []


def test_monthly_engagement_in_the_report_csv(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    made = setup(client, admin, runtime, clock)
    answer = client.get(
        f"{API}/reports/objectives",
        params={"from": "2026-11-01", "to": "2026-11-30", "by": "month", "format": "csv"},
        headers=admin,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    mine = [r for r in rows if r["id"] in (made["goal"]["id"], made["hook"])]
    assert [
        (r["section"], r["period_start"], r["published"], r["posts"], r["engagement"]) for r in mine
    ] == [
        ("objective", "", "4", "4", "28"),
        ("objective_period", "2026-11-01", "", "4", "28"),
        ("channel", "", "4", "4", "28"),
        ("channel_period", "2026-11-01", "", "4", "28"),
    ]
    assert mine[1]["best_post_title"] == "Week one 0" and mine[1]["name"] == "Events"


def test_the_report_refuses_a_bad_period(client: TestClient, admin: dict[str, str]) -> None:
    bad_by = client.get(
        f"{API}/reports/objectives",
        params={"from": "2026-11-01", "to": "2026-11-02", "by": "year"},
        headers=admin,
    )
    assert bad_by.status_code == 422
    assert bad_by.json()["detail"][0]["loc"] == ["query", "by"]
    # The separate engagement endpoint is gone: the reports carry the figures.
    gone = client.get(
        f"{API}/reports/engagement",
        params={"from": "2026-11-01", "to": "2026-11-02"},
        headers=admin,
    )
    assert gone.status_code == 404
