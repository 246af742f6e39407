"""Claiming: due deliveries become `publishing` once, in order, never to two workers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.alerts.models import Alert
from app.channels.models import Channel
from app.clock import FrozenClock
from app.db import transaction
from app.posts.models import Delivery, DeliveryAttempt
from app.publishing.claims import Job, claim_due
from app.runtime import Runtime
from tests.helpers import objective, post, webhook_channel

LEASE = timedelta(seconds=60)


def claim(runtime: Runtime, owner: str = "w1", limit: int = 100, per_channel: int = 1) -> list[Job]:
    with transaction(runtime.sessions) as session:
        return claim_due(
            session,
            now=runtime.clock.now(),
            owner=owner,
            lease=LEASE,
            limit=limit,
            per_channel=per_channel,
            max_lateness=runtime.settings.max_lateness,
            media_dir=runtime.settings.media_dir,
            base_url=runtime.settings.base_url,
        )


def schedule(
    client: TestClient,
    headers: dict[str, str],
    obj: dict[str, Any],
    channels: list[dict[str, Any]],
    at: str,
    text: str = "Hello",
) -> dict[str, Any]:
    return post(
        client,
        headers,
        text=text,
        objective_ids=[obj["id"]],
        channel_ids=[c["id"] for c in channels],
        scheduled_at=at,
    )


def deliveries(runtime: Runtime) -> list[Delivery]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Delivery)))


def test_nothing_is_claimed_before_it_is_due(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj, hook = objective(client, admin), webhook_channel(client, admin)
    schedule(client, admin, obj, [hook], "2026-11-23T09:00:05Z")
    assert claim(runtime) == []
    clock.advance(seconds=5)
    [job] = claim(runtime)
    assert job.request.text == "Hello"
    assert job.request.objectives[0].name == obj["name"]
    [delivery] = deliveries(runtime)
    assert delivery.status == "publishing"
    assert delivery.lease_owner == "w1"
    assert delivery.lease_expires_at == clock.now() + LEASE
    # Claimed once: a second claimer finds nothing.
    assert claim(runtime, owner="w2") == []


def test_one_delivery_per_channel_in_flight_and_in_order(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj = objective(client, admin)
    a = webhook_channel(client, admin, name="A")
    b = webhook_channel(client, admin, name="B")
    first = schedule(client, admin, obj, [a, b], "2026-11-23T09:00:01Z", text="first")
    second = schedule(client, admin, obj, [a], "2026-11-23T09:00:02Z", text="second")
    clock.advance(seconds=10)
    jobs = claim(runtime)
    assert sorted(j.request.text for j in jobs) == ["first", "first"]
    # Channel A is busy with "first": "second" waits, for this worker and any other.
    assert claim(runtime, owner="w2") == []
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.post_id == first["id"])
            .values(status="published", lease_owner=None)
        )
    [job] = claim(runtime, owner="w2")
    assert job.request.post_id == second["id"]


def test_per_channel_concurrency_setting_allows_more(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj, hook = objective(client, admin), webhook_channel(client, admin)
    for i in range(5):
        schedule(client, admin, obj, [hook], f"2026-11-23T09:00:0{i + 1}Z", text=f"p{i}")
    clock.advance(seconds=10)
    jobs = claim(runtime, per_channel=3)
    assert [j.request.text for j in jobs] == ["p0", "p1", "p2"]
    assert claim(runtime, per_channel=3) == []


def test_limit_caps_a_claim(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj = objective(client, admin)
    channels = [webhook_channel(client, admin, name=f"C{i}") for i in range(5)]
    schedule(client, admin, obj, channels, "2026-11-23T09:00:01Z")
    clock.advance(seconds=10)
    assert len(claim(runtime, limit=2)) == 2
    assert len(claim(runtime, limit=10)) == 3


def test_a_delivery_found_too_late_fails_as_missed_window(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj, hook = objective(client, admin), webhook_channel(client, admin)
    created = schedule(client, admin, obj, [hook], "2026-11-23T10:00:00Z")
    clock.advance(hours=7, seconds=1)  # the default window is 6 hours
    assert claim(runtime) == []
    [delivery] = deliveries(runtime)
    assert delivery.status == "failed"
    assert delivery.error_kind == "missed_window"
    assert "missed its window" in (delivery.last_error or "")
    with runtime.sessions() as session:
        [alert] = session.scalars(select(Alert).where(Alert.kind == "delivery_failed")).all()
        assert alert.kind == "delivery_failed" and alert.post_id == created["id"]
        assert session.scalars(select(DeliveryAttempt.outcome)).all() == ["missed_window"]
    # A person's retry publishes it after all.
    response = client.post(f"/api/v1/deliveries/{delivery.id}/retry", headers=admin)
    assert response.status_code == 200, response.text
    [job] = claim(runtime)
    assert job.delivery_id == delivery.id


def test_unusable_channels_fail_their_due_deliveries(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj = objective(client, admin)
    dead = webhook_channel(client, admin, name="Dead")
    off = webhook_channel(client, admin, name="Off")
    schedule(client, admin, obj, [dead, off], "2026-11-23T09:00:01Z")
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Channel)
            .where(Channel.id == dead["id"])
            .values(status="needs_reconnect", status_reason="token revoked")
        )
        session.execute(update(Channel).where(Channel.id == off["id"]).values(status="disabled"))
    clock.advance(seconds=5)
    assert claim(runtime) == []
    by_channel = {d.channel_id: d for d in deliveries(runtime)}
    assert by_channel[dead["id"]].status == "failed"
    assert by_channel[dead["id"]].last_error == "token revoked"
    assert by_channel[off["id"]].error_kind == "channel_disabled"


def test_internal_only_is_checked_again_before_publishing(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj = objective(client, admin)
    hook = webhook_channel(client, admin)
    post(
        client,
        admin,
        text="staff only",
        objective_ids=[obj["id"]],
        channel_ids=[hook["id"]],
        scheduled_at="2026-11-23T09:00:01Z",
        internal_only=True,
    )
    # Someone turns the webhook external after scheduling.
    with transaction(runtime.sessions) as session:
        session.execute(update(Channel).values(audience="external"))
    clock.advance(seconds=5)
    assert claim(runtime) == []
    [delivery] = deliveries(runtime)
    assert delivery.status == "failed" and delivery.error_kind == "internal_only"


def test_cancel_and_move_take_effect_at_once(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    obj, hook = objective(client, admin), webhook_channel(client, admin)
    cancelled = schedule(client, admin, obj, [hook], "2026-11-23T09:00:01Z", text="cancelled")
    moved = schedule(
        client,
        admin,
        obj,
        [webhook_channel(client, admin, name="B")],
        "2026-11-23T09:00:01Z",
        text="moved",
    )
    assert client.delete(f"/api/v1/posts/{cancelled['id']}", headers=admin).status_code == 200
    response = client.patch(
        f"/api/v1/posts/{moved['id']}", json={"scheduled_at": "2026-11-23T12:00:00Z"}, headers=admin
    )
    assert response.status_code == 200, response.text
    clock.advance(seconds=5)
    assert claim(runtime) == []
    clock.set(clock.now().replace(hour=12))
    [job] = claim(runtime)
    assert job.request.text == "moved"
