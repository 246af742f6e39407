"""The OpenAPI description and its interactive page."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_docs_page(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text


def test_openapi_lists_the_api(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "Cadence"
    paths = spec["paths"]
    for path, methods in {
        "/api/v1/objectives": {"get", "post"},
        "/api/v1/objectives/{objective_id}": {"get", "patch", "delete"},
        "/api/v1/channels": {"get", "post"},
        "/api/v1/channels/{channel_id}": {"get", "patch", "delete"},
        "/api/v1/posts": {"get", "post"},
        "/api/v1/posts/{post_id}": {"get", "patch", "delete"},
        "/api/v1/deliveries/{delivery_id}/retry": {"post"},
        "/api/v1/alerts": {"get"},
        "/api/v1/alerts/{alert_id}/acknowledge": {"post"},
    }.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    # Credentials are write-only: the channel answer's schema has no such property.
    channel_out = spec["components"]["schemas"]["ChannelOut"]["properties"]
    assert "credentials" not in channel_out
    assert "credential_fields" in channel_out
