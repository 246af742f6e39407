"""Channels: every platform's config and credentials, audience rules, secrets kept secret."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.channels.models import Channel
from app.db import transaction
from app.runtime import Runtime
from connectors.registry import PLATFORMS
from tests.helpers import (
    API,
    locs,
    objective,
    row_counts,
    scheduled_post,
    total,
    webhook_channel,
)

# Every secret value below contains "SECRET" so that a leak is easy to find.
VALID: dict[str, dict[str, Any]] = {
    "x-oauth1": {
        "platform": "x",
        "config": {"username": "cadence_org"},
        "credentials": {
            "consumer_key": "SECRET-ck",
            "consumer_secret": "SECRET-cs",
            "access_token": "SECRET-at",
            "access_token_secret": "SECRET-ats",
        },
    },
    "x-oauth2": {
        "platform": "x",
        "config": {"username": "cadence_org"},
        "credentials": {
            "access_token": "SECRET-o2-at",
            "refresh_token": "SECRET-o2-rt",
            "client_id": "SECRET-o2-cid",
            "client_secret": "SECRET-o2-cs",
        },
    },
    "facebook": {
        "platform": "facebook",
        "config": {"page_id": "1234567890", "api_version": "v24.0"},
        "credentials": {"page_access_token": "SECRET-page-token"},
    },
    "youtube": {
        "platform": "youtube",
        "config": {"privacy_status": "unlisted", "category_id": "29"},
        "credentials": {
            "refresh_token": "SECRET-yt-rt",
            "client_id": "SECRET-yt-cid",
            "client_secret": "SECRET-yt-cs",
            "access_token": "SECRET-yt-at",
        },
    },
    "flickr": {
        "platform": "flickr",
        "config": {"user_nsid": "12345678@N01", "is_public": False},
        "credentials": {
            "consumer_key": "SECRET-fl-ck",
            "consumer_secret": "SECRET-fl-cs",
            "oauth_token": "SECRET-fl-ot",
            "oauth_token_secret": "SECRET-fl-ots",
        },
    },
    "yammer": {
        "platform": "yammer",
        "config": {"group_id": "987654", "network_id": "42"},
        "credentials": {"access_token": "SECRET-yammer"},
    },
    "linkedin": {
        "platform": "linkedin",
        "config": {"organization_urn": "urn:li:organization:2414183"},
        "credentials": {"access_token": "SECRET-li-at", "refresh_token": "SECRET-li-rt"},
    },
    "instagram": {
        "platform": "instagram",
        "config": {"ig_user_id": "17841400008460056"},
        "credentials": {"page_access_token": "SECRET-ig-token"},
    },
    "mastodon": {
        "platform": "mastodon",
        "config": {"instance": "https://social.example", "visibility": "unlisted"},
        "credentials": {"access_token": "SECRET-mastodon"},
    },
    "bluesky": {
        "platform": "bluesky",
        "config": {"handle": "kitchen.bsky.social"},
        "credentials": {"app_password": "SECRET-bsky-app-pw"},
    },
    "vimeo": {
        "platform": "vimeo",
        "config": {"privacy": "unlisted"},
        "credentials": {"access_token": "SECRET-vimeo"},
    },
    "sharepoint": {
        "platform": "sharepoint",
        "config": {"site_id": "contoso.sharepoint.com,2C71,2D22"},
        "credentials": {"access_token": "SECRET-sp-at", "refresh_token": "SECRET-sp-rt"},
    },
    "slack": {
        "platform": "slack",
        "config": {"username": "Cadence"},
        "credentials": {"webhook_url": "https://hooks.slack.com/services/T0/B0/SECRETslack"},
    },
    "teams": {
        "platform": "teams",
        "config": {},
        "credentials": {"webhook_url": "https://example.webhook.office.com/SECRETteams"},
    },
    "mattermost": {
        "platform": "mattermost",
        "config": {"username": "cadence"},
        "credentials": {"webhook_url": "https://chat.example.org/hooks/SECRETmattermost"},
    },
    "email": {
        "platform": "email",
        "config": {
            "host": "smtp.example.org",
            "port": 587,
            "security": "starttls",
            "from_address": "comms@example.org",
            "to_addresses": ["staff@example.org", "board@example.org"],
        },
        "credentials": {"username": "SECRET-smtp-user", "password": "SECRET-smtp-password"},
    },
    "webhook": {
        "platform": "webhook",
        "audience": "external",
        "config": {"url": "https://partner.example.org/cadence"},
        "credentials": {"signing_secret": "SECRET-signing"},
    },
}

# The audience each platform's connector class declares (None: the creator chooses).
AUDIENCE = {name: p.audience for name, p in PLATFORMS.items() if p.audience is not None}
# One example per platform: the first VALID case naming it.
CASE = {body["platform"]: case for case, body in reversed(VALID.items())}


def test_every_registered_platform_has_an_example_channel() -> None:
    assert set(CASE) == set(PLATFORMS)


# One wrong config or credential per platform, and the loc it must name.
INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("x-oauth1", {"credentials": {"consumer_key": 42}}, "body.credentials.consumer_key"),
    ("x-oauth2", {"config": {"username": ["a", "b"]}}, "body.config.username"),
    ("facebook", {"config": {"api_version": "v24.0"}}, "body.config.page_id"),
    ("youtube", {"config": {"privacy_status": "secret"}}, "body.config.privacy_status"),
    (
        "flickr",
        {
            "credentials": {
                "consumer_key": "SECRET-fl-ck",
                "consumer_secret": "SECRET-fl-cs",
                "oauth_token": "SECRET-fl-ot",
            }
        },
        "body.credentials.oauth_token_secret",
    ),
    ("yammer", {"config": {"network_id": "42"}}, "body.config.group_id"),
    ("slack", {"credentials": {"webhook_url": "not a url"}}, "body.credentials.webhook_url"),
    (
        "teams",
        {"credentials": {"webhook_url": "ftp://example.org/SECRET"}},
        "body.credentials.webhook_url",
    ),
    ("mattermost", {"credentials": {}}, "body.credentials.webhook_url"),
    (
        "email",
        {
            "config": {
                "host": "smtp.example.org",
                "from_address": "comms@example.org",
                "to_addresses": [],
            }
        },
        "body.config.to_addresses",
    ),
    ("webhook", {"config": {"url": "javascript:alert(1)"}}, "body.config.url"),
    ("facebook", {"config": {"page_id": "1", "pageid": "2"}}, "body.config.pageid"),
    (
        "yammer",
        {"credentials": {"access_token": "SECRET", "extra": "SECRET-x"}},
        "body.credentials.extra",
    ),
    ("email", {"config": {**VALID["email"]["config"], "port": 70000}}, "body.config.port"),
    ("youtube", {"config": {"api_base": "not-a-url"}}, "body.config.api_base"),
    (
        "linkedin",
        {"config": {"organization_urn": "urn:li:person:1"}},
        "body.config.organization_urn",
    ),
    ("instagram", {"credentials": {}}, "body.credentials.page_access_token"),
    ("mastodon", {"config": {"instance": "ftp://social.example"}}, "body.config.instance"),
    ("bluesky", {"config": {}}, "body.config.handle"),
    ("vimeo", {"config": {"privacy": "everyone"}}, "body.config.privacy"),
    ("sharepoint", {"config": {}}, "body.config.site_id"),
]


def _secrets(body: dict[str, Any]) -> list[str]:
    return [str(v) for v in body.get("credentials", {}).values()]


def _body(case: str, **overrides: Any) -> dict[str, Any]:
    return {"name": f"{case} channel", **VALID[case], **overrides}


def _stored_credentials(runtime: Runtime, channel_id: str) -> str:
    with runtime.sessions() as session:
        stored = session.scalar(
            select(Channel.credentials_encrypted).where(Channel.id == channel_id)
        )
    assert stored is not None
    return stored


def test_create_every_platform(client: TestClient, admin: dict[str, str], runtime: Runtime) -> None:
    for case in VALID:
        body = _body(case)
        response = client.post(f"{API}/channels", json=body, headers=admin)
        assert response.status_code == 201, (case, response.text)
        created = response.json()
        assert created["platform"] == body["platform"]
        assert created["name"] == f"{case} channel"
        assert created["audience"] == (body.get("audience") or AUDIENCE[body["platform"]])
        assert created["status"] == "active"
        assert created["status_reason"] is None
        assert created["receives_alerts"] is False
        assert created["credential_fields"] == sorted(body["credentials"])
        assert "credentials" not in created
        for key, value in body["config"].items():
            assert created["config"][key] == value
        # Secrets never come back, from any read.
        fetched = client.get(f"{API}/channels/{created['id']}", headers=admin)
        listed = client.get(f"{API}/channels", headers=admin)
        for text in (response.text, fetched.text, listed.text):
            for secret in _secrets(body):
                assert secret not in text, case
            assert "SECRET" not in text, case
        assert fetched.json() == created
        # ... and are encrypted at rest, yet readable with the key.
        stored = _stored_credentials(runtime, created["id"])
        assert "SECRET" not in stored
        for secret in _secrets(body):
            assert secret not in stored
        assert runtime.box.open(stored) == body["credentials"]
    assert total(client, admin, "/channels") == len(VALID)


def test_config_defaults_are_filled_in(client: TestClient, admin: dict[str, str]) -> None:
    youtube = _body("youtube", config={})
    created = client.post(f"{API}/channels", json=youtube, headers=admin).json()
    assert created["config"]["privacy_status"] == "private"
    facebook = _body("facebook", config={"page_id": "1"})
    created = client.post(f"{API}/channels", json=facebook, headers=admin).json()
    assert created["config"]["api_version"].startswith("v")


def test_invalid_config_or_credentials(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    for case, change, loc in INVALID:
        response = client.post(f"{API}/channels", json=_body(case, **change), headers=admin)
        assert response.status_code == 422, (case, response.text)
        assert loc in locs(response), (case, response.text)
        assert "SECRET" not in response.text
    assert row_counts(runtime) == before


def test_x_needs_one_complete_credential_set(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    body = _body("x-oauth1", credentials={"consumer_key": "SECRET-1", "access_token": "SECRET-2"})
    response = client.post(f"{API}/channels", json=body, headers=admin)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "credentials"]
    assert "OAuth 1.0a" in problem["msg"] and "OAuth 2" in problem["msg"]
    assert "SECRET" not in response.text
    assert total(client, admin, "/channels") == 0


def test_wrong_credential_types_are_not_echoed(client: TestClient, admin: dict[str, str]) -> None:
    for credentials in (
        {"page_access_token": 1234567890123},
        {"page_access_token": ["SECRET-in-a-list"]},
        {"page_access_token": {"token": "SECRET-in-a-dict"}},
    ):
        response = client.post(
            f"{API}/channels", json=_body("facebook", credentials=credentials), headers=admin
        )
        assert response.status_code == 422
        assert locs(response) == ["body.credentials.page_access_token"]
        assert "SECRET" not in response.text
        assert "1234567890123" not in response.text
        assert "input" not in response.json()["detail"][0]
    assert total(client, admin, "/channels") == 0


def test_credentials_of_the_wrong_shape_are_not_echoed(
    client: TestClient, admin: dict[str, str]
) -> None:
    for credentials in ("SECRET-as-a-string", ["SECRET-in-a-list"], 12345678):
        response = client.post(
            f"{API}/channels", json=_body("facebook", credentials=credentials), headers=admin
        )
        assert response.status_code == 422
        assert locs(response) == ["body.credentials"]
        assert "SECRET" not in response.text
        assert "12345678" not in response.text


def test_unknown_platform(client: TestClient, admin: dict[str, str], runtime: Runtime) -> None:
    for platform in ("myspace", "X", "", None, 3):
        body = {"name": "Somewhere", "platform": platform, "config": {}, "credentials": {}}
        response = client.post(f"{API}/channels", json=body, headers=admin)
        assert response.status_code == 422
        assert locs(response) == ["body.platform"]
        assert "'x'" in response.json()["detail"][0]["msg"]  # the message lists the known ones
    assert total(client, admin, "/channels") == 0


def test_audience_is_fixed_by_the_platform(client: TestClient, admin: dict[str, str]) -> None:
    for platform, audience in AUDIENCE.items():
        case = CASE[platform]
        other = "internal" if audience == "external" else "external"
        response = client.post(f"{API}/channels", json=_body(case, audience=other), headers=admin)
        assert response.status_code == 422, case
        assert locs(response) == ["body.audience"]
        assert f"always {audience}" in response.json()["detail"][0]["msg"]
    assert total(client, admin, "/channels") == 0
    for platform, audience in AUDIENCE.items():
        case = CASE[platform]
        ok = client.post(f"{API}/channels", json=_body(case, audience=audience), headers=admin)
        assert ok.status_code == 201, case


def test_webhook_needs_a_chosen_audience(client: TestClient, admin: dict[str, str]) -> None:
    body = _body("webhook")
    del body["audience"]
    response = client.post(f"{API}/channels", json=body, headers=admin)
    assert response.status_code == 422
    assert locs(response) == ["body.audience"]
    bad = client.post(f"{API}/channels", json={**body, "audience": "public"}, headers=admin)
    assert bad.status_code == 422
    assert locs(bad) == ["body.audience"]
    assert total(client, admin, "/channels") == 0
    for audience in ("internal", "external"):
        created = client.post(f"{API}/channels", json={**body, "audience": audience}, headers=admin)
        assert created.status_code == 201
        assert created.json()["audience"] == audience


def test_receives_alerts_only_on_internal_channels(
    client: TestClient, admin: dict[str, str]
) -> None:
    for case in ("x-oauth1", "webhook"):  # webhook is external in VALID
        response = client.post(
            f"{API}/channels", json=_body(case, receives_alerts=True), headers=admin
        )
        assert response.status_code == 422, response.text
        assert locs(response) == ["body.receives_alerts"]
    assert total(client, admin, "/channels") == 0
    slack = client.post(f"{API}/channels", json=_body("slack", receives_alerts=True), headers=admin)
    assert slack.status_code == 201
    assert slack.json()["receives_alerts"] is True
    # Making an alert-receiving webhook external is refused too.
    hook = webhook_channel(client, admin, receives_alerts=True)
    response = client.patch(
        f"{API}/channels/{hook['id']}", json={"audience": "external"}, headers=admin
    )
    assert response.status_code == 422
    assert locs(response) == ["body.receives_alerts"]
    assert client.get(f"{API}/channels/{hook['id']}", headers=admin).json() == hook


def test_channel_status_on_create(client: TestClient, admin: dict[str, str]) -> None:
    disabled = client.post(
        f"{API}/channels", json=_body("yammer", status="disabled"), headers=admin
    )
    assert disabled.status_code == 201
    assert disabled.json()["status"] == "disabled"
    refused = client.post(
        f"{API}/channels", json=_body("yammer", status="needs_reconnect"), headers=admin
    )
    assert refused.status_code == 422
    assert locs(refused) == ["body.status"]


def test_patch_merges_and_revalidates(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: Any
) -> None:
    created = client.post(f"{API}/channels", json=_body("email"), headers=admin).json()
    clock.advance(minutes=5)
    response = client.patch(
        f"{API}/channels/{created['id']}",
        json={
            "name": "Staff newsletter",
            "config": {"port": 465, "security": "ssl"},
            # A new port and TLS mode move where the login goes: the whole login again.
            "credentials": {"username": "SECRET-smtp-user", "password": "SECRET-new-password"},
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Staff newsletter"
    assert updated["config"]["port"] == 465
    assert updated["config"]["security"] == "ssl"
    assert updated["config"]["host"] == "smtp.example.org"  # merged, not replaced
    assert updated["config"]["to_addresses"] == ["staff@example.org", "board@example.org"]
    assert updated["credential_fields"] == ["password", "username"]
    assert updated["updated_at"] == "2026-11-23T09:05:00Z"
    assert "SECRET" not in response.text
    stored = _stored_credentials(runtime, created["id"])
    assert "SECRET" not in stored
    assert runtime.box.open(stored) == {
        "username": "SECRET-smtp-user",
        "password": "SECRET-new-password",
    }

    # The merged whole is checked: a bad value is refused and nothing changes.
    before = client.get(f"{API}/channels/{created['id']}", headers=admin).json()
    for body, loc in (
        ({"config": {"security": "tls"}}, "body.config.security"),
        ({"config": {"to_addresses": []}}, "body.config.to_addresses"),
        ({"config": {"unknown": 1}}, "body.config.unknown"),
        ({"credentials": {"password": 12345}}, "body.credentials.password"),
        ({"name": ""}, "body.name"),
        ({"platform": "slack"}, "body.platform"),
        ({"status": "needs_reconnect"}, "body.status"),
    ):
        response = client.patch(f"{API}/channels/{created['id']}", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert loc in locs(response)
        assert "12345" not in response.text
    assert client.get(f"{API}/channels/{created['id']}", headers=admin).json() == before
    assert runtime.box.open(_stored_credentials(runtime, created["id"]))["password"] == (
        "SECRET-new-password"
    )


def test_patch_credentials_for_x_switches_sets(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    created = client.post(f"{API}/channels", json=_body("x-oauth2"), headers=admin).json()
    # Half an OAuth 1.0a set on top of the OAuth 2 one: still one complete set (OAuth 2).
    response = client.patch(
        f"{API}/channels/{created['id']}",
        json={"credentials": {"consumer_key": "SECRET-new-ck"}},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert "SECRET" not in response.text
    assert "consumer_key" in response.json()["credential_fields"]
    stored = runtime.box.open(_stored_credentials(runtime, created["id"]))
    assert stored["consumer_key"] == "SECRET-new-ck"
    assert stored["refresh_token"] == "SECRET-o2-rt"


def test_patch_null_is_422(client: TestClient, admin: dict[str, str]) -> None:
    created = webhook_channel(client, admin)
    for field in ("name", "audience", "config", "credentials", "receives_alerts", "status"):
        response = client.patch(
            f"{API}/channels/{created['id']}", json={field: None}, headers=admin
        )
        assert response.status_code == 422
        assert locs(response) == [f"body.{field}"]
    assert client.get(f"{API}/channels/{created['id']}", headers=admin).json() == created


def test_disable_and_enable(client: TestClient, admin: dict[str, str]) -> None:
    created = webhook_channel(client, admin)
    response = client.patch(
        f"{API}/channels/{created['id']}", json={"status": "disabled"}, headers=admin
    )
    assert response.status_code == 200
    assert response.json()["status"] == "disabled"
    assert total(client, admin, "/channels", status="disabled") == 1
    assert total(client, admin, "/channels", status="active") == 0
    response = client.patch(
        f"{API}/channels/{created['id']}", json={"status": "active"}, headers=admin
    )
    assert response.json()["status"] == "active"


def test_new_credentials_reconnect_a_channel(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    created = client.post(f"{API}/channels", json=_body("yammer"), headers=admin).json()
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Channel)
            .where(Channel.id == created["id"])
            .values(status="needs_reconnect", status_reason="token revoked")
        )
    fetched = client.get(f"{API}/channels/{created['id']}", headers=admin).json()
    assert fetched["status"] == "needs_reconnect"
    assert fetched["status_reason"] == "token revoked"
    assert total(client, admin, "/channels", status="needs_reconnect") == 1
    # A config change alone does not reconnect, nor does asking for "active".
    renamed = client.patch(
        f"{API}/channels/{created['id']}", json={"config": {"group_id": "1"}}, headers=admin
    )
    assert renamed.json()["status"] == "needs_reconnect"
    refused = client.patch(
        f"{API}/channels/{created['id']}",
        json={"status": "active", "name": "Renamed"},
        headers=admin,
    )
    assert refused.status_code == 409
    assert locs(refused) == ["body.status"]
    assert "credentials" in refused.json()["detail"][0]["msg"]
    assert client.get(f"{API}/channels/{created['id']}", headers=admin).json() == renamed.json()
    response = client.patch(
        f"{API}/channels/{created['id']}",
        json={"credentials": {"access_token": "SECRET-fresh"}},
        headers=admin,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["status_reason"] is None
    assert "SECRET" not in response.text


def test_list_filters_and_pagination(client: TestClient, admin: dict[str, str]) -> None:
    for case in ("slack", "teams", "email", "yammer", "x-oauth1"):
        client.post(f"{API}/channels", json=_body(case), headers=admin)
    listed = client.get(f"{API}/channels", headers=admin).json()
    assert listed["total"] == 5
    assert [c["name"] for c in listed["items"]] == sorted(c["name"] for c in listed["items"])
    assert total(client, admin, "/channels", platform="slack") == 1
    assert total(client, admin, "/channels", platform="facebook") == 0
    page = client.get(f"{API}/channels", params={"limit": 2, "offset": 2}, headers=admin).json()
    assert page["total"] == 5
    assert [c["name"] for c in page["items"]] == [c["name"] for c in listed["items"][2:4]]
    bad = client.get(f"{API}/channels", params={"platform": "myspace"}, headers=admin)
    assert bad.status_code == 422
    assert locs(bad) == ["query.platform"]
    bad = client.get(f"{API}/channels", params={"status": "broken"}, headers=admin)
    assert locs(bad) == ["query.status"]
    assert "SECRET" not in json.dumps(listed)


def test_delete_unused_channel(client: TestClient, admin: dict[str, str]) -> None:
    created = webhook_channel(client, admin)
    response = client.delete(f"{API}/channels/{created['id']}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    gone = client.get(f"{API}/channels/{created['id']}", headers=admin)
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"channel {created['id']} not found"}
    assert total(client, admin, "/channels") == 0


def test_delete_used_channel_disables_it(client: TestClient, admin: dict[str, str]) -> None:
    obj = objective(client, admin)
    created = webhook_channel(client, admin)
    scheduled_post(client, admin, obj["id"], [created["id"]])
    response = client.delete(f"{API}/channels/{created['id']}", headers=admin)
    assert response.status_code == 200, response.text
    disabled = response.json()
    assert disabled["status"] == "disabled"
    assert disabled["id"] == created["id"]
    assert "hook-signing-secret" not in response.text
    assert client.get(f"{API}/channels", headers=admin).json() == {
        "items": [disabled],
        "total": 1,
    }


def test_unknown_channel_is_404(client: TestClient, admin: dict[str, str]) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(
            method, f"{API}/channels/nope", json={} if method == "PATCH" else None, headers=admin
        )
        assert response.status_code == 404, (method, response.text)
        assert response.json() == {"detail": "channel nope not found"}
