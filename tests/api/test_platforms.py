"""GET /api/v1/platforms and the channel schemas: both read from the connector classes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from connectors.registry import PLATFORMS
from tests.helpers import API


def test_the_platform_list_is_the_registry(client: TestClient, viewer: dict[str, str]) -> None:
    response = client.get(f"{API}/platforms", headers=viewer)

    assert response.status_code == 200
    listed = response.json()
    assert [p["name"] for p in listed] == list(PLATFORMS)
    for out in listed:
        platform = PLATFORMS[out["name"]]
        assert out["label"] == platform.label
        assert out["audience"] == platform.audience
        limits = platform.limits
        assert out["limits"]["text"] == limits.text
        assert out["limits"]["text_unit"] == limits.text_unit
        assert out["limits"]["title_required"] == limits.title_required
        assert out["limits"]["media_types"] == (
            dict(limits.media_types) if limits.media_types is not None else None
        )
        assert set(out["config_schema"]["properties"]) == set(platform.config_model.model_fields)
        assert set(out["credentials_schema"].get("properties", {})) == set(
            platform.credentials_model.model_fields
        )


def test_the_platform_list_needs_a_login(client: TestClient) -> None:
    assert client.get(f"{API}/platforms").status_code == 401


def test_a_channel_can_be_made_for_exactly_the_registered_platforms(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    field = spec["components"]["schemas"]["ChannelCreate"]["properties"]["platform"]
    assert field["enum"] == list(PLATFORMS)
