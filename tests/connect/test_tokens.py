"""The token life cycle against the fake X: refresh on a 401 with rotation, refresh
ahead of expiry, single flight across processes, a dead grant (needs_reconnect, one
alert, deliveries waiting, going out after a reconnect, failing after the grace),
known ends, and the daily check."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.models import Alert, AlertKind
from app.channels import service as channels
from app.channels.models import Channel, ChannelStatus
from app.channels.schemas import ChannelCreate
from app.clock import FrozenClock
from app.connect.keeper import check_connected, refresh_expiring, warn_of_ends
from app.connect.models import ChannelToken
from app.connect.providers import Pick
from app.connect.service import reconnect
from app.connect.waiting import give_up_waiting
from app.db import transaction
from app.posts.models import Delivery
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.users.models import Role
from connectors.transport import make_client
from tests.fakes.x import CLIENT_ID, CLIENT_SECRET, OAUTH2_TOKEN, REFRESH_TOKEN, FakeX
from tests.helpers import API, objective, post
from tests.web.test_pages import login, make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def connected_x(runtime: Runtime, fake: FakeX, **token: Any) -> str:
    """An X channel as the Connect flow leaves it: OAuth 2 tokens, their expiry."""
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        channel = channels.create(
            session,
            data=ChannelCreate.model_validate(
                {
                    "name": "X @cadence_comms",
                    "platform": "x",
                    "config": {"username": "cadence_comms", "api_base": fake.url},
                    "credentials": {
                        "access_token": OAUTH2_TOKEN,
                        "refresh_token": REFRESH_TOKEN,
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                    },
                }
            ),
            box=runtime.box,
            now=now,
            outbound=runtime.settings.outbound_policy(),
        )
        session.add(
            ChannelToken(
                channel_id=channel.id,
                platform="x",
                access_expires_at=token.get("access_expires_at", now + timedelta(hours=2)),
                ends_at=token.get("ends_at"),
            )
        )
        return channel.id


def credentials_of(runtime: Runtime, channel_id: str) -> dict[str, Any]:
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        return runtime.box.open(channel.credentials_encrypted)


def drain(runtime: Runtime) -> None:
    async def go() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(go())


def with_client(runtime: Runtime, fn: Any) -> Any:
    async def go() -> Any:
        http = make_client(
            timeout=5, max_connections=2, outbound=runtime.settings.outbound_policy()
        )
        try:
            return await fn(http)
        finally:
            await http.aclose()

    return asyncio.run(go())


def publish_now(client: TestClient, admin: dict[str, str], channel_id: str, text: str) -> None:
    post(
        client,
        admin,
        text=text,
        channel_ids=[channel_id],
        publish_now=True,
        objective_ids=[objective(client, admin, name=f"Obj {text}")["id"]],
    )


def deliveries(runtime: Runtime) -> list[Delivery]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.created_at)))


def alerts(runtime: Runtime) -> list[Alert]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Alert)))


def test_a_401_refreshes_once_stores_the_rotated_tokens_and_retries(
    client: TestClient, admin: dict[str, str], runtime: Runtime, fake_x: FakeX
) -> None:
    channel_id = connected_x(runtime, fake_x)
    fake_x.revoke(OAUTH2_TOKEN)  # the access token expired
    publish_now(client, admin, channel_id, "After a refresh")
    drain(runtime)
    (delivery,) = deliveries(runtime)
    assert delivery.status == "published", delivery.last_error
    assert len(fake_x.issued) == 1
    access, refresh = fake_x.issued[0]
    creds = credentials_of(runtime, channel_id)
    assert (creds["access_token"], creds["refresh_token"]) == (access, refresh)
    assert REFRESH_TOKEN not in fake_x.refresh_tokens  # rotated: the old one is dead
    assert [t.text for t in fake_x.tweets] == ["After a refresh"]
    with runtime.sessions() as session:
        token = session.get(ChannelToken, channel_id)
        assert token is not None and token.refreshed_at == runtime.clock.now()
        assert token.access_expires_at == runtime.clock.now() + timedelta(seconds=7200)


def test_tokens_about_to_end_are_refreshed_ahead_once(
    runtime: Runtime, fake_x: FakeX, clock: FrozenClock
) -> None:
    channel_id = connected_x(runtime, fake_x, access_expires_at=clock.now() + timedelta(minutes=5))
    later = connected_x(runtime, fake_x, access_expires_at=clock.now() + timedelta(hours=1))
    assert with_client(runtime, lambda http: refresh_expiring(runtime, http)) == 1
    assert len(fake_x.issued) == 1
    assert credentials_of(runtime, channel_id)["access_token"] == fake_x.issued[0][0]
    # The other channel holds the same grant (the same refresh token): it takes the
    # renewed pair too, or its own renewal would use a refresh token X has retired.
    assert credentials_of(runtime, later)["refresh_token"] == fake_x.issued[0][1]
    # Now two hours ahead: nothing more to do.
    assert with_client(runtime, lambda http: refresh_expiring(runtime, http)) == 0
    assert len(fake_x.issued) == 1


def test_a_dead_grant_makes_the_channel_wait_for_a_reconnect_with_one_alert(
    client: TestClient, admin: dict[str, str], runtime: Runtime, fake_x: FakeX
) -> None:
    channel_id = connected_x(runtime, fake_x)
    fake_x.revoke(OAUTH2_TOKEN)
    fake_x.revoke_refresh(REFRESH_TOKEN)  # the user revoked the app
    publish_now(client, admin, channel_id, "First")
    publish_now(client, admin, channel_id, "Second")
    drain(runtime)
    assert [d.status for d in deliveries(runtime)] == ["waiting", "waiting"]
    # The post reads as scheduled; its page says what the delivery waits for.
    post_id = deliveries(runtime)[0].post_id
    assert client.get(f"{API}/posts/{post_id}", headers=admin).json()["status"] == "scheduled"
    make_user(runtime, "root@example.org", Role.admin)
    assert login(client, "root@example.org").status_code == 303
    page = client.get(f"/posts/{post_id}")
    assert page.status_code == 200 and "Waiting for its channel to be reconnected" in page.text
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None and channel.status == ChannelStatus.needs_reconnect
    found = alerts(runtime)
    assert [a.kind for a in found] == [AlertKind.channel_needs_reconnect]
    assert f"/channels/{channel_id}/reconnect" in found[0].message
    assert len(fake_x.issued) == 0 and fake_x.tweets == []

    # Reconnected within the grace: both go out, the alert is resolved.
    fake_x.bearer_tokens.add("new-access")
    with transaction(runtime.sessions) as session:
        reconnect(
            session,
            channel_id=channel_id,
            pick=Pick(key="1", name="X", config={}, credentials={"access_token": "new-access"}),
            box=runtime.box,
            now=runtime.clock.now(),
            outbound=runtime.settings.outbound_policy(),
        )
    assert [d.status for d in deliveries(runtime)] == ["scheduled", "scheduled"]
    drain(runtime)
    assert sorted(t.text for t in fake_x.tweets) == ["First", "Second"]
    assert credentials_of(runtime, channel_id)["refresh_token"] == REFRESH_TOKEN  # kept
    assert all(a.resolved_at is not None for a in alerts(runtime))


def test_deliveries_waiting_past_the_grace_fail(
    client: TestClient, admin: dict[str, str], runtime: Runtime, fake_x: FakeX, clock: FrozenClock
) -> None:
    channel_id = connected_x(runtime, fake_x)
    fake_x.revoke(OAUTH2_TOKEN)
    fake_x.revoke_refresh(REFRESH_TOKEN)
    publish_now(client, admin, channel_id, "Too late")
    drain(runtime)
    clock.advance(hours=23)
    with transaction(runtime.sessions) as session:
        assert give_up_waiting(session, now=clock.now()) == 0
    clock.advance(hours=1, seconds=1)
    with transaction(runtime.sessions) as session:
        assert give_up_waiting(session, now=clock.now()) == 1
    (delivery,) = deliveries(runtime)
    assert delivery.status == "failed"
    assert "not reconnected in time" in (delivery.last_error or "")
    kinds = sorted(a.kind for a in alerts(runtime))
    assert kinds == [AlertKind.channel_needs_reconnect, AlertKind.delivery_failed]


def test_a_known_end_raises_one_alert_seven_days_before(
    runtime: Runtime, fake_x: FakeX, clock: FrozenClock
) -> None:
    channel_id = connected_x(runtime, fake_x, ends_at=clock.now() + timedelta(days=8))
    with transaction(runtime.sessions) as session:
        assert warn_of_ends(session, now=clock.now()) == 0
    clock.advance(days=1, seconds=1)
    for _ in range(2):
        with transaction(runtime.sessions) as session:
            warn_of_ends(session, now=clock.now())
    (alert,) = alerts(runtime)
    assert alert.kind == AlertKind.channel_needs_reconnect
    assert f"/channels/{channel_id}/reconnect" in alert.message


def test_the_daily_check_marks_a_revoked_channel_early(
    runtime: Runtime, fake_x: FakeX, clock: FrozenClock
) -> None:
    channel_id = connected_x(runtime, fake_x)
    assert with_client(runtime, lambda http: check_connected(runtime, http)) == 1
    assert with_client(runtime, lambda http: check_connected(runtime, http)) == 0  # once a day
    fake_x.revoke(OAUTH2_TOKEN)
    fake_x.revoke_refresh(REFRESH_TOKEN)
    clock.advance(days=1)
    assert with_client(runtime, lambda http: check_connected(runtime, http)) == 1
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None and channel.status == ChannelStatus.needs_reconnect


RACER = """
import asyncio, sys, time
from datetime import datetime
from pathlib import Path
from app.clock import FrozenClock
from app.config import Settings
from app.connect.tokens import refresher
from app.runtime import Runtime
from connectors.transport import make_client

url, channel_id, stale, now, go = sys.argv[1:6]
runtime = Runtime.build(
    Settings(_env_file=None, database_url=url, secret_key="test-secret-key",
             outbound_allow="127.0.0.1"),
    clock=FrozenClock(datetime.fromisoformat(now)),
)
print("ready", flush=True)
while not Path(go).exists():
    time.sleep(0.005)

async def main():
    http = make_client(timeout=10, max_connections=2, outbound=runtime.settings.outbound_policy())
    try:
        creds = await refresher(runtime, http, channel_id)(stale)
    finally:
        await http.aclose()
    print(creds["access_token"], flush=True)

asyncio.run(main())
"""


def test_two_processes_racing_on_one_expired_token_refresh_it_once(
    runtime: Runtime, fake_x: FakeX, database_url: str, tmp_path: Path, clock: FrozenClock
) -> None:
    channel_id = connected_x(runtime, fake_x)
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                RACER,
                database_url,
                channel_id,
                OAUTH2_TOKEN,
                clock.now().isoformat(),
                str(go),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for racer in racers:
        assert racer.stdout is not None
        assert racer.stdout.readline().strip() == "ready"
    go.touch()
    answers = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        answers.append(out.strip())
    assert len(fake_x.issued) == 1, "the refresh token was used twice"
    assert answers == [fake_x.issued[0][0]] * 2
    assert credentials_of(runtime, channel_id)["refresh_token"] == fake_x.issued[0][1]
    assert json.dumps(fake_x.issued)  # the fake saw exactly one rotation


def test_a_waiting_delivery_can_be_cancelled(
    client: TestClient, admin: dict[str, str], runtime: Runtime, fake_x: FakeX
) -> None:
    channel_id = connected_x(runtime, fake_x)
    fake_x.revoke(OAUTH2_TOKEN)
    fake_x.revoke_refresh(REFRESH_TOKEN)
    publish_now(client, admin, channel_id, "Never mind")
    drain(runtime)
    (delivery,) = deliveries(runtime)
    assert delivery.status == "waiting"
    answer = client.delete(f"{API}/posts/{delivery.post_id}", headers=admin)
    assert answer.status_code in (200, 204), answer.text
    assert [d.status for d in deliveries(runtime)] == ["cancelled"]
