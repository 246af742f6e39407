"""Dates at the ends of the calendar (0001-01-01, 9999-12-31) in queries: a 4xx naming
the field, never a 500 (date arithmetic past year 9999 raises OverflowError)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.helpers import API, objective

EDGES = ("0001-01-01", "9999-12-31")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/coverage", {"from": "{edge}", "to": "{edge}"}, "from"),
        ("/coverage", {"from": "2026-11-23", "to": "{edge}"}, "to"),
        ("/reports/objectives", {"from": "{edge}", "to": "{edge}"}, "from"),
        ("/posts", {"from": "{edge}T00:00:00Z"}, "from"),
        ("/posts", {"to": "{edge}T23:59:59Z"}, "to"),
    ],
)
@pytest.mark.parametrize("edge", EDGES)
def test_api_dates_at_the_ends_of_the_calendar(
    client: TestClient,
    admin: dict[str, str],
    path: str,
    params: dict[str, str],
    field: str,
    edge: str,
) -> None:
    objective(client, admin)
    query = {k: v.format(edge=edge) for k, v in params.items()}
    response = client.get(f"{API}{path}", params=query, headers=admin)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert ["query", field] in [p["loc"] for p in response.json()["detail"]], response.text
