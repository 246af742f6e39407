"""Inputs that pydantic's lax mode would coerce are refused: a number is not a time,
0 is not false. And the OpenAPI document declares the errors each operation answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, objective


def _locs(response: Any) -> list[list[Any]]:
    return [e["loc"] for e in response.json()["detail"]]


@pytest.mark.parametrize("value", ["0.5", "1700000000", "nan", "-1"])
def test_a_number_is_not_a_time(client: TestClient, viewer: dict[str, str], value: str) -> None:
    response = client.get(f"{API}/posts", params={"to": value}, headers=viewer)
    assert response.status_code == 422
    assert ["query", "to"] in _locs(response)


def test_a_number_is_not_a_day(client: TestClient, viewer: dict[str, str]) -> None:
    response = client.get(
        f"{API}/coverage", params={"from": "20261201", "to": "2026-12-02"}, headers=viewer
    )
    assert response.status_code == 422
    assert ["query", "from"] in _locs(response)


def test_iso_times_and_days_still_work(client: TestClient, viewer: dict[str, str]) -> None:
    ok = client.get(f"{API}/posts", params={"to": "2026-12-01T09:00:00+00:00"}, headers=viewer)
    assert ok.status_code == 200, ok.text
    days = {"from": "2026-12-01", "to": "2026-12-02"}
    assert client.get(f"{API}/coverage", params=days, headers=viewer).status_code == 200


@pytest.mark.parametrize("value", [0, 1, "yes", "true", None])
def test_zero_is_not_false(client: TestClient, admin: dict[str, str], value: Any) -> None:
    response = client.post(
        f"{API}/objectives", json={"name": "Fundraising", "archived": value}, headers=admin
    )
    assert response.status_code == 422
    assert ["body", "archived"] in _locs(response)
    assert client.get(f"{API}/objectives", headers=admin).json()["items"] == []


def test_flags_in_a_patch_are_strict_too(client: TestClient, admin: dict[str, str]) -> None:
    made = objective(client, admin)
    response = client.patch(f"{API}/objectives/{made['id']}", json={"archived": 1}, headers=admin)
    assert response.status_code == 422
    assert ["body", "archived"] in _locs(response)
    again = client.patch(f"{API}/objectives/{made['id']}", json={"archived": True}, headers=admin)
    assert again.status_code == 200 and again.json()["archived"] is True


def test_openapi_declares_the_errors_each_operation_answers(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    patch = set(paths[f"{API}/posts/{{post_id}}"]["patch"]["responses"])
    assert {"400", "401", "403", "404", "409", "413", "422"} <= patch
    listing = set(paths[f"{API}/posts"]["get"]["responses"])
    assert {"401", "403", "422"} <= listing and "404" not in listing and "409" not in listing
    health = set(paths["/healthz"]["get"]["responses"])
    assert health == {"200"}
