"""Small builders for API tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.runtime import Runtime

API = "/api/v1"


def objective(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Support and information", **fields}
    response = client.post(f"{API}/objectives", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def webhook_channel(
    client: TestClient,
    headers: dict[str, str],
    url: str = "http://127.0.0.1:9/hook",
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "name": "Intranet hook",
        "platform": "webhook",
        "audience": "internal",
        "config": {"url": url},
        "credentials": {"signing_secret": "hook-signing-secret"},
        **fields,
    }
    response = client.post(f"{API}/channels", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def x_channel(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Main X account",
        "platform": "x",
        "config": {"username": "cadence"},
        "credentials": {
            "consumer_key": "ck",
            "consumer_secret": "cs-secret",
            "access_token": "at",
            "access_token_secret": "ats-secret",
        },
        **fields,
    }
    response = client.post(f"{API}/channels", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def post(
    client: TestClient, headers: dict[str, str], *, expect: int = 201, **fields: Any
) -> dict[str, Any]:
    response = client.post(f"{API}/posts", json=fields, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()  # type: ignore[no-any-return]


# --- Shared by the API tests (tests/api) ---------------------------------------------

HOOK_URL = "https://intranet.example.org/hook"
LATER = "2026-11-24T10:00:00Z"  # a day after the test clock's now


def locs(response: Any) -> list[str]:
    """The dotted `loc` of each problem in a 422/409 answer, e.g. ['body.objective_ids.0']."""
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [".".join(str(part) for part in problem["loc"]) for problem in detail]


def total(client: TestClient, headers: dict[str, str], path: str, **params: Any) -> int:
    response = client.get(f"{API}{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["total"]  # type: ignore[no-any-return]


def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows per table, read straight from the database: what a failed request must not change."""
    from sqlalchemy import func, select

    from app.models import Base

    with runtime.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.tables.values()
            if table.name not in ("users", "api_tokens")
        }


def set_deliveries(runtime: Runtime, statuses: dict[str, str], **values: Any) -> None:
    """Force delivery statuses in the database (what the scheduler would do)."""
    from sqlalchemy import update

    from app.db import transaction
    from app.posts.models import Delivery

    with transaction(runtime.sessions) as session:
        for delivery_id, status in statuses.items():
            session.execute(
                update(Delivery).where(Delivery.id == delivery_id).values(status=status, **values)
            )


def scheduled_post(
    client: TestClient,
    headers: dict[str, str],
    objective_id: str,
    channel_ids: list[str],
    *,
    when: str = LATER,
    **fields: Any,
) -> dict[str, Any]:
    return post(
        client,
        headers,
        text=fields.pop("text", "Open day on Saturday"),
        objective_ids=[objective_id],
        channel_ids=channel_ids,
        scheduled_at=when,
        **fields,
    )


def as_read(answer: dict[str, Any]) -> dict[str, Any]:
    """A write's answer as GET shows it: without the objective-days the write touched."""
    return {k: v for k, v in answer.items() if k not in ("coverage", "warnings")}
