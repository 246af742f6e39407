"""POST /channels/{id}/test: the credentials checked against the (fake) platform."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.channels.models import Channel
from app.db import transaction
from app.runtime import Runtime
from tests.fakes.sinks import SinkServer, slack_error
from tests.fakes.yammer import GROUP_ID, TOKEN, YammerFake
from tests.helpers import API, webhook_channel

SLACK_SECRET = "T0CADENCE/B0CADENCE/xoxSecretHookPath"


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


def slack_channel(client: TestClient, headers: dict[str, str], sink: SinkServer) -> dict[str, Any]:
    body = {
        "name": "Comms Slack",
        "platform": "slack",
        "credentials": {"webhook_url": sink.url_for(f"/services/{SLACK_SECRET}")},
    }
    response = client.post(f"{API}/channels", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def open_alerts(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(f"{API}/alerts", params={"status": "open"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def test_a_reachable_webhook_is_ok(
    client: TestClient, admin: dict[str, str], sink: SinkServer
) -> None:
    channel = webhook_channel(client, admin, url=sink.url_for("/intranet/hook"))

    response = client.post(f"{API}/channels/{channel['id']}/test", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    assert response.json()["status"] == "active"
    assert [(r.method, r.path) for r in sink.requests] == [("HEAD", "/intranet/hook")]


def test_a_dead_slack_hook_needs_reconnecting(
    client: TestClient, admin: dict[str, str], sink: SinkServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = slack_channel(client, admin, sink)
    sink.answer(slack_error("no_service"))

    response = client.post(f"{API}/channels/{channel['id']}/test", headers=admin)

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ok"] is False
    assert result["status"] == "needs_reconnect"
    assert "no_service" in result["detail"]
    fetched = client.get(f"{API}/channels/{channel['id']}", headers=admin).json()
    assert fetched["status"] == "needs_reconnect"
    assert "no_service" in fetched["status_reason"]
    alerts = open_alerts(client, admin)
    assert [(a["kind"], a["channel_id"]) for a in alerts] == [
        ("channel_needs_reconnect", channel["id"])
    ]
    # The hook's secret path is in no answer and no log line.
    for text in (response.text, fetched.__repr__(), repr(alerts)):
        assert "xoxSecretHookPath" not in text
    for record in caplog.records:
        assert "xoxSecretHookPath" not in record.getMessage() + repr(record.__dict__)

    # Checking again keeps one alert.
    sink.answer(slack_error("channel_not_found"))
    again = client.post(f"{API}/channels/{channel['id']}/test", headers=admin).json()
    assert again["status"] == "needs_reconnect"
    assert len(open_alerts(client, admin)) == 1

    # New credentials reconnect the channel and resolve the alert.
    fresh = {"webhook_url": sink.url_for("/services/T0/B0/fresh")}
    patched = client.patch(
        f"{API}/channels/{channel['id']}", json={"credentials": fresh}, headers=admin
    )
    assert patched.json()["status"] == "active"
    assert open_alerts(client, admin) == []


def test_a_passing_check_leaves_needs_reconnect_alone(
    client: TestClient, admin: dict[str, str], sink: SinkServer, runtime: Runtime
) -> None:
    channel = slack_channel(client, admin, sink)
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Channel)
            .where(Channel.id == channel["id"])
            .values(status="needs_reconnect", status_reason="token revoked")
        )
    sink.answer(slack_error("no_text"))  # a live hook refuses the empty check message

    result = client.post(f"{API}/channels/{channel['id']}/test", headers=admin).json()

    assert result["ok"] is True
    assert result["status"] == "needs_reconnect"


def test_an_unreachable_platform_is_not_a_refusal(
    client: TestClient, admin: dict[str, str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = webhook_channel(client, admin, url=f"http://127.0.0.1:{port}/hook")

    result = client.post(f"{API}/channels/{channel['id']}/test", headers=admin).json()

    assert result["ok"] is False
    assert result["status"] == "active"
    assert open_alerts(client, admin) == []


def test_a_disabled_channel_stays_disabled(
    client: TestClient, admin: dict[str, str], sink: SinkServer
) -> None:
    channel = slack_channel(client, admin, sink)
    client.patch(f"{API}/channels/{channel['id']}", json={"status": "disabled"}, headers=admin)
    sink.answer(slack_error("channel_not_found"))

    result = client.post(f"{API}/channels/{channel['id']}/test", headers=admin).json()

    assert result["ok"] is False
    assert result["status"] == "disabled"


def test_a_yammer_channel_with_a_revoked_token(client: TestClient, admin: dict[str, str]) -> None:
    with YammerFake() as fake:
        body = {
            "name": "Staff news",
            "platform": "yammer",
            "config": {"group_id": GROUP_ID, "api_base": fake.url},
            "credentials": {"access_token": TOKEN},
        }
        channel = client.post(f"{API}/channels", json=body, headers=admin).json()
        path = f"{API}/channels/{channel['id']}/test"

        live = client.post(path, headers=admin).json()
        fake.revoke()
        dead = client.post(path, headers=admin)

    assert live == {
        "ok": True,
        "detail": "Yammer accepts the token of Comms Team",
        "status": "active",
    }
    assert dead.json()["ok"] is False
    assert dead.json()["status"] == "needs_reconnect"
    assert TOKEN not in dead.text


def test_only_admins_check_and_unknown_channels_are_404(
    client: TestClient, admin: dict[str, str], editor: dict[str, str], sink: SinkServer
) -> None:
    channel = webhook_channel(client, admin, url=sink.url_for("/hook"))

    assert client.post(f"{API}/channels/{channel['id']}/test", headers=editor).status_code == 403
    assert client.post(f"{API}/channels/{channel['id']}/test").status_code == 401
    assert client.post(f"{API}/channels/nope/test", headers=admin).status_code == 404
    assert sink.requests == []
