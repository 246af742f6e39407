"""Big coverage answers are paged, and reads take no write lock."""

from __future__ import annotations

import sqlite3

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.db import transaction
from app.runtime import Runtime
from app.users.models import ApiToken
from tests.helpers import API, locs, objective

YEAR = {"from": "2026-01-01", "to": "2026-12-31"}  # 365 days: 54 objectives fit in 20,000 cells


def test_a_year_of_many_objectives_is_paged(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str]
) -> None:
    names = [f"Objective {i:02d}" for i in range(56)]
    for name in names:
        objective(client, admin, name=name)

    first = client.get(f"{API}/coverage", params=YEAR, headers=viewer)
    assert first.status_code == 200, first.text
    cells = first.json()
    assert len(cells) == 54 * 365
    assert first.headers["X-Total-Count"] == "56"
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"') and "offset=54" in link and "limit=54" in link

    rest = client.get(link[1 : link.index(">")], headers=viewer)
    assert rest.status_code == 200
    assert len(rest.json()) == 2 * 365
    assert "Link" not in rest.headers
    seen = {c["objective_id"] for c in cells} | {c["objective_id"] for c in rest.json()}
    assert len(seen) == 56

    # Asking for more than fits is refused, naming the parameter; a smaller page is fine.
    too_many = client.get(f"{API}/coverage", params={**YEAR, "limit": 55}, headers=viewer)
    assert too_many.status_code == 422 and locs(too_many) == ["query.limit"]
    assert "at most 54 objectives for 365 days" in too_many.json()["detail"][0]["msg"]
    small = client.get(f"{API}/coverage", params={**YEAR, "limit": 3, "offset": 1}, headers=viewer)
    assert small.status_code == 200 and len(small.json()) == 3 * 365


def test_coverage_answers_while_another_connection_holds_the_write_lock(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str], runtime: Runtime
) -> None:
    objective(client, admin, name="Events")
    week = {"from": "2026-11-23", "to": "2026-11-29"}
    assert client.get(f"{API}/coverage", params=week, headers=viewer).status_code == 200
    url = runtime.settings.database_url
    if not url.startswith("sqlite"):
        return  # PostgreSQL has no database-wide write lock
    writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE objectives SET name = name")
        answer = client.get(f"{API}/coverage", params=week, headers=viewer)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()) == 7
        assert client.get(f"{API}/posts", headers=viewer).status_code == 200
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_token_used_only_for_reads_still_records_its_use(
    client: TestClient, viewer: dict[str, str], runtime: Runtime
) -> None:
    with transaction(runtime.sessions) as session:
        session.execute(update(ApiToken).values(last_used_at=None))
    assert client.get(f"{API}/objectives", headers=viewer).status_code == 200
    with runtime.sessions() as session:
        used = session.scalars(select(ApiToken.last_used_at)).all()
    assert used == [runtime.clock.now()]
