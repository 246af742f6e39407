from fastapi.testclient import TestClient

from tests.helpers import API, objective, post, webhook_channel


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_schedule_a_post(client: TestClient, admin: dict[str, str]) -> None:
    obj = objective(client, admin)
    channel = webhook_channel(client, admin)
    created = post(
        client,
        admin,
        text="Open day on Saturday",
        objective_ids=[obj["id"]],
        channel_ids=[channel["id"]],
        scheduled_at="2026-11-24T10:00:00+01:00",
    )
    assert created["status"] == "scheduled"
    assert created["scheduled_at"] == "2026-11-24T09:00:00Z"
    [delivery] = created["deliveries"]
    assert delivery["channel_id"] == channel["id"]
    assert delivery["status"] == "scheduled"
    fetched = client.get(f"{API}/posts/{created['id']}", headers=admin).json()
    coverage = created.pop("coverage")
    assert created.pop("warnings") == []  # e.g. a blackout day (planning)
    assert fetched == created
    assert coverage == [
        {
            "objective_id": obj["id"],
            "day": "2026-11-24",
            "required": 1,
            "planned": 1,
            "published": 0,
            "covered": True,
            "pending": 0,  # posts awaiting approval that day (issue 12)
            "planned_post_ids": None,
            "published_post_ids": None,
        }
    ]
