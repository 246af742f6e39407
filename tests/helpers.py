"""Small builders for API tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

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
