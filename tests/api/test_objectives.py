"""Objectives: CRUD, defaults, uniqueness, validation, archive-on-delete, pagination."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.helpers import (
    API,
    locs,
    objective,
    row_counts,
    scheduled_post,
    total,
    webhook_channel,
)


def test_create_with_defaults(client: TestClient, admin: dict[str, str]) -> None:
    created = objective(client, admin, name="Fundraising events")
    assert created["name"] == "Fundraising events"
    assert created["description"] == ""
    assert created["color"] == "#2563eb"
    assert created["min_posts_per_day"] == 1
    assert created["active_weekdays"] == [0, 1, 2, 3, 4, 5, 6]
    assert created["timezone"] == "Europe/London"  # the service's CADENCE_TIMEZONE
    assert created["archived"] is False
    assert created["created_at"] == created["updated_at"] == "2026-11-23T09:00:00Z"
    assert isinstance(created["id"], str) and created["id"]
    fetched = client.get(f"{API}/objectives/{created['id']}", headers=admin)
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_create_with_every_field(client: TestClient, admin: dict[str, str]) -> None:
    created = objective(
        client,
        admin,
        name="  Support and information  ",
        description="Help people find support",
        color="#A1b2C3",
        min_posts_per_day=0,
        active_weekdays=[4, 0, 0, 2],
        timezone="America/New_York",
        archived=True,
    )
    assert created["name"] == "Support and information"  # surrounding spaces dropped
    assert created["description"] == "Help people find support"
    assert created["color"] == "#A1b2C3"
    assert created["min_posts_per_day"] == 0
    assert created["active_weekdays"] == [0, 2, 4]  # distinct and sorted
    assert created["timezone"] == "America/New_York"
    assert created["archived"] is True


def test_update_and_list(client: TestClient, admin: dict[str, str], clock: Any) -> None:
    created = objective(client, admin, name="Volunteering")
    clock.advance(hours=1)
    response = client.patch(
        f"{API}/objectives/{created['id']}",
        json={"min_posts_per_day": 3, "active_weekdays": [5, 6], "color": "#000000"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["min_posts_per_day"] == 3
    assert updated["active_weekdays"] == [5, 6]
    assert updated["color"] == "#000000"
    assert updated["name"] == "Volunteering"  # untouched fields stay
    assert updated["updated_at"] == "2026-11-23T10:00:00Z"
    assert updated["created_at"] == "2026-11-23T09:00:00Z"
    listed = client.get(f"{API}/objectives", headers=admin).json()
    assert listed == {"items": [updated], "total": 1}
    # An empty PATCH changes nothing but is fine.
    same = client.patch(f"{API}/objectives/{created['id']}", json={}, headers=admin)
    assert same.status_code == 200
    assert same.json()["min_posts_per_day"] == 3


def test_patch_description_and_name(client: TestClient, admin: dict[str, str]) -> None:
    created = objective(client, admin, name="Volunteering", description="old")
    response = client.patch(
        f"{API}/objectives/{created['id']}",
        json={"name": "VOLUNTEERING", "description": ""},
        headers=admin,
    )
    # Renaming to the same name in another case is not a clash with itself.
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "VOLUNTEERING"
    assert response.json()["description"] == ""


def test_name_is_unique_ignoring_case(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    objective(client, admin, name="Fundraising events")
    before = row_counts(runtime)
    for name in ("Fundraising events", "FUNDRAISING EVENTS", " fundraising events "):
        response = client.post(f"{API}/objectives", json={"name": name}, headers=admin)
        assert response.status_code == 409, response.text
        assert locs(response) == ["body.name"]
        assert "exists already" in response.json()["detail"][0]["msg"]
    assert row_counts(runtime) == before


def test_rename_onto_another_name_is_409(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    objective(client, admin, name="Fundraising events")
    other = objective(client, admin, name="Volunteering")
    response = client.patch(
        f"{API}/objectives/{other['id']}", json={"name": "fundraising EVENTS"}, headers=admin
    )
    assert response.status_code == 409
    assert locs(response) == ["body.name"]
    fetched = client.get(f"{API}/objectives/{other['id']}", headers=admin).json()
    assert fetched == other


def test_bad_fields_are_422_naming_the_field(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    for body, loc in (
        ({"name": "A", "color": "blue"}, "body.color"),
        ({"name": "A", "color": "#12345"}, "body.color"),
        ({"name": "A", "color": "#1234567"}, "body.color"),
        ({"name": "A", "color": "#gggggg"}, "body.color"),
        ({"name": "A", "min_posts_per_day": -1}, "body.min_posts_per_day"),
        ({"name": "A", "min_posts_per_day": 1.5}, "body.min_posts_per_day"),
        ({"name": "A", "min_posts_per_day": "many"}, "body.min_posts_per_day"),
        ({"name": "A", "active_weekdays": [0, 7]}, "body.active_weekdays.1"),
        ({"name": "A", "active_weekdays": [-1]}, "body.active_weekdays.0"),
        ({"name": "A", "active_weekdays": "monday"}, "body.active_weekdays"),
        ({"name": "A", "timezone": "Mars/Olympus_Mons"}, "body.timezone"),
        ({"name": "A", "timezone": "Europe"}, "body.timezone"),
        ({"name": "A", "timezone": ""}, "body.timezone"),
        ({"name": "A", "timezone": "../../etc/passwd"}, "body.timezone"),
        ({"name": "x" * 101}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"name": None}, "body.name"),
        ({}, "body.name"),
        ({"name": "A", "owner": "me"}, "body.owner"),
        ({"name": "A", "archived": "perhaps"}, "body.archived"),
        ({"name": "A", "description": "d" * 5001}, "body.description"),
    ):
        response = client.post(f"{API}/objectives", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert loc in locs(response), (body, response.text)
        assert all(problem["msg"] for problem in response.json()["detail"])
    assert row_counts(runtime) == before
    assert total(client, admin, "/objectives") == 0


def test_name_of_100_chars_is_fine(client: TestClient, admin: dict[str, str]) -> None:
    assert objective(client, admin, name="x" * 100)["name"] == "x" * 100


def test_patch_null_is_422(client: TestClient, admin: dict[str, str]) -> None:
    created = objective(client, admin)
    for field in (
        "name",
        "description",
        "color",
        "min_posts_per_day",
        "active_weekdays",
        "timezone",
        "archived",
    ):
        response = client.patch(
            f"{API}/objectives/{created['id']}", json={field: None}, headers=admin
        )
        assert response.status_code == 422, response.text
        assert locs(response) == [f"body.{field}"]
    assert client.get(f"{API}/objectives/{created['id']}", headers=admin).json() == created


def test_patch_bad_fields_change_nothing(client: TestClient, admin: dict[str, str]) -> None:
    created = objective(client, admin)
    for body, loc in (
        ({"color": "red"}, "body.color"),
        ({"min_posts_per_day": -5}, "body.min_posts_per_day"),
        ({"active_weekdays": [7]}, "body.active_weekdays.0"),
        ({"timezone": "Nowhere/Land"}, "body.timezone"),
        ({"name": "y" * 101}, "body.name"),
        ({"id": "another-id"}, "body.id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "body.created_at"),
    ):
        response = client.patch(f"{API}/objectives/{created['id']}", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert loc in locs(response), (body, response.text)
    assert client.get(f"{API}/objectives/{created['id']}", headers=admin).json() == created


def test_delete_unused_objective(client: TestClient, admin: dict[str, str]) -> None:
    created = objective(client, admin)
    response = client.delete(f"{API}/objectives/{created['id']}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    gone = client.get(f"{API}/objectives/{created['id']}", headers=admin)
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"objective {created['id']} not found"}
    assert total(client, admin, "/objectives") == 0
    again = client.delete(f"{API}/objectives/{created['id']}", headers=admin)
    assert again.status_code == 404


def test_delete_used_objective_archives_it(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    obj = objective(client, admin)
    channel = webhook_channel(client, admin)
    created = scheduled_post(client, admin, obj["id"], [channel["id"]])
    response = client.delete(f"{API}/objectives/{obj['id']}", headers=admin)
    assert response.status_code == 200, response.text
    archived = response.json()
    assert archived["archived"] is True
    assert archived["id"] == obj["id"]
    assert archived["name"] == obj["name"]
    listed = client.get(f"{API}/objectives", headers=admin).json()
    assert listed == {"items": [archived], "total": 1}
    assert total(client, admin, "/objectives", archived="true") == 1
    assert total(client, admin, "/objectives", archived="false") == 0
    # The post keeps its objective.
    post = client.get(f"{API}/posts/{created['id']}", headers=admin).json()
    assert post["objective_ids"] == [obj["id"]]
    # A draft post also counts as use.
    other = objective(client, admin, name="Other")
    client.post(
        f"{API}/posts",
        json={"text": "d", "status": "draft", "objective_ids": [other["id"]]},
        headers=admin,
    )
    assert client.delete(f"{API}/objectives/{other['id']}", headers=admin).status_code == 200


def test_pagination(client: TestClient, admin: dict[str, str]) -> None:
    names = [f"Objective {i:02d}" for i in range(7)]
    for name in reversed(names):
        objective(client, admin, name=name)
    first = client.get(f"{API}/objectives", params={"limit": 3}, headers=admin).json()
    assert first["total"] == 7
    assert [o["name"] for o in first["items"]] == names[:3]  # ordered by name
    second = client.get(f"{API}/objectives", params={"limit": 3, "offset": 3}, headers=admin)
    assert [o["name"] for o in second.json()["items"]] == names[3:6]
    last = client.get(f"{API}/objectives", params={"limit": 3, "offset": 6}, headers=admin)
    assert [o["name"] for o in last.json()["items"]] == names[6:]
    beyond = client.get(f"{API}/objectives", params={"offset": 100}, headers=admin).json()
    assert beyond == {"items": [], "total": 7}
    assert len(client.get(f"{API}/objectives", headers=admin).json()["items"]) == 7
    full = client.get(f"{API}/objectives", params={"limit": 1000}, headers=admin)
    assert full.status_code == 200


def test_bad_list_parameters(client: TestClient, admin: dict[str, str]) -> None:
    for params, loc in (
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
        ({"limit": -1}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"offset": "x"}, "query.offset"),
        ({"offset": 10**20}, "query.offset"),
        ({"archived": "perhaps"}, "query.archived"),
    ):
        response = client.get(f"{API}/objectives", params=params, headers=admin)
        assert response.status_code == 422, (params, response.text)
        assert locs(response) == [loc]


def test_unknown_objective_is_404(client: TestClient, admin: dict[str, str]) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(
            method, f"{API}/objectives/nope", json={} if method == "PATCH" else None, headers=admin
        )
        assert response.status_code == 404, (method, response.text)
        assert response.json() == {"detail": "objective nope not found"}


# -- names that differ only in case, beyond ASCII ------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [("Ärger", "Ärger"), ("Ärger", "ärger"), ("STRASSE", "Straße"), ("Σίσυφος", "ΣΊΣΥΦΟΣ")],
)
def test_a_second_objective_with_the_same_name_in_any_case_is_409_naming_name(
    client: TestClient, admin: dict[str, str], runtime: Runtime, first: str, second: str
) -> None:
    objective(client, admin, name=first)
    before = row_counts(runtime)
    response = client.post(f"{API}/objectives", json={"name": second}, headers=admin)
    assert response.status_code == 409, response.text
    assert locs(response) == ["body.name"]
    assert row_counts(runtime) == before
    other = objective(client, admin, name="Other")
    renamed = client.patch(f"{API}/objectives/{other['id']}", json={"name": second}, headers=admin)
    assert renamed.status_code == 409, renamed.text
    assert locs(renamed) == ["body.name"]


def test_a_constraint_the_service_did_not_foresee_is_409_naming_the_field(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    # A row from before the name key (the migration keeps such a clash apart as
    # "ärger (<id>)"): the service's check passes and the database's unique name
    # refuses. Every IntegrityError answers 409 with the field, never 500.
    from sqlalchemy import update

    from app.db import transaction
    from app.objectives.models import Objective

    old = objective(client, admin, name="ärger")
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Objective)
            .where(Objective.id == old["id"])
            .values(name_key=f"ärger ({old['id']})")
        )
    response = client.post(f"{API}/objectives", json={"name": "ärger"}, headers=admin)
    assert response.status_code == 409, response.text
    assert locs(response) == ["body.name"]
