"""The dispatcher's own failure paths, through real deliveries to a real local sink.

Rule: nothing went out = failed (with a reason a person can act on); maybe went out =
unknown (a person checks the platform).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from app.alerts.models import Alert
from app.channels.models import Channel
from app.clock import FrozenClock
from app.db import transaction
from app.media.models import Media
from app.posts.models import Delivery, DeliveryAttempt
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from tests.connectors.media_files import image_bytes
from tests.fakes.sinks import SinkServer, hang
from tests.helpers import API, objective, webhook_channel
from tests.publishing.test_claims import schedule

DUE = "2026-11-23T09:00:01Z"


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


def due_post(
    client: TestClient,
    admin: dict[str, str],
    sink: SinkServer,
    *,
    names: tuple[str, ...] = ("hook",),
    **fields: Any,
) -> list[dict[str, Any]]:
    """A post due now on one webhook channel per name, each at /<name> on the sink."""
    obj = objective(client, admin)
    hooks = [webhook_channel(client, admin, name=n, url=sink.url_for(f"/{n}")) for n in names]
    body = {
        "text": "Open day on Saturday",
        "objective_ids": [obj["id"]],
        "channel_ids": [h["id"] for h in hooks],
        "scheduled_at": DUE,
        **fields,
    }
    response = client.post(f"{API}/posts", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return hooks


def drain(runtime: Runtime, **options: Any) -> None:
    async def go() -> None:
        dispatcher = Dispatcher(runtime, **options)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(go())


def deliveries(runtime: Runtime) -> dict[str, Delivery]:
    """By channel id."""
    with runtime.sessions() as session:
        return {d.channel_id: d for d in session.scalars(select(Delivery))}


def only_delivery(runtime: Runtime) -> Delivery:
    [delivery] = deliveries(runtime).values()
    return delivery


def alert_messages(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        return [
            (a.kind, a.message)
            for a in session.scalars(select(Alert).where(Alert.delivery_id.is_not(None)))
        ]


# -- failures before the call: failed, with the fix named ------------------------------


def test_stored_settings_that_no_longer_validate_fail_the_delivery(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    [hook] = due_post(client, admin, sink)
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Channel).where(Channel.id == hook["id"]).values(config={"url": "not a url"})
        )
    clock.advance(seconds=1)
    drain(runtime)
    d = only_delivery(runtime)
    assert (d.status, d.error_kind) == ("failed", "config_invalid")
    assert d.last_error is not None
    assert d.last_error.startswith("the channel's settings are no longer valid: url: ")
    [(kind, message)] = alert_messages(runtime)
    assert kind == "delivery_failed" and "cannot tell" not in message.lower()
    assert sink.requests == []


def test_credentials_that_cannot_be_decrypted_fail_the_delivery(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    [hook] = due_post(client, admin, sink)
    # Sealed under a secret key this installation no longer has.
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Channel)
            .where(Channel.id == hook["id"])
            .values(credentials_encrypted="gAAAAABfZm9yZ290dGVuLWtleQ==")
        )
    clock.advance(seconds=1)
    drain(runtime)
    d = only_delivery(runtime)
    assert (d.status, d.error_kind) == ("failed", "credentials_unreadable")
    assert d.last_error is not None and "re-enter the credentials" in d.last_error
    assert [k for k, _ in alert_messages(runtime)] == ["delivery_failed"]
    assert sink.requests == []


def test_a_media_file_missing_on_disk_fails_the_delivery(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    uploaded = client.post(
        f"{API}/media",
        files={"file": ("kitchen.png", image_bytes("png", (64, 48)))},
        headers=admin,
    )
    assert uploaded.status_code == 201, uploaded.text
    due_post(client, admin, sink, media_ids=[uploaded.json()["id"]])
    with runtime.sessions() as session:
        media = session.get(Media, uploaded.json()["id"])
        assert media is not None
        (runtime.settings.media_dir / media.storage_path).unlink()
    clock.advance(seconds=1)
    drain(runtime)
    d = only_delivery(runtime)
    assert (d.status, d.error_kind) == ("failed", "media_missing")
    assert d.last_error == "media file kitchen.png is missing"
    assert sink.requests == []


# -- failures during the call --------------------------------------------------------


def test_a_call_that_hangs_past_the_guard_becomes_unknown(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    due_post(client, admin, sink)
    sink.answer(hang(30), path="/hook")
    clock.advance(seconds=1)
    # The HTTP timeouts (30 s) would end the call much later: the guard ends it first.
    drain(runtime, call_guard=lambda request: 0.3)
    d = only_delivery(runtime)
    assert (d.status, d.error_kind) == ("unknown", "ambiguous")
    assert d.last_error == "JSON webhook did not answer in time"
    assert len(sink.requests) == 1
    assert [k for k, _ in alert_messages(runtime)] == ["delivery_unknown"]


class ExplodingTransport(httpx.AsyncBaseTransport):
    """A transport with a bug: it raises what no connector expects, mid-request."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise RuntimeError("boom")


def test_an_unexpected_exception_during_the_call_becomes_unknown(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    due_post(client, admin, sink)
    clock.advance(seconds=1)
    drain(runtime, http=httpx.AsyncClient(transport=ExplodingTransport()))
    d = only_delivery(runtime)
    assert (d.status, d.error_kind) == ("unknown", "ambiguous")
    assert d.last_error is not None
    assert d.last_error.startswith("unexpected RuntimeError in the ")


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_stop_records_finished_calls_and_makes_in_flight_ones_unknown(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    fast, slow = due_post(client, admin, sink, names=("fast", "slow"))
    sink.answer(hang(30), path="/slow")
    clock.advance(seconds=1)

    async def go() -> None:
        dispatcher = Dispatcher(runtime)
        running = asyncio.create_task(dispatcher.run())
        # Both requests reached the sink and the fast one's outcome is written.
        while not (
            len(sink.requests) == 2
            and await asyncio.to_thread(lambda: deliveries(runtime)[fast["id"]].status)
            == "published"
        ):
            await asyncio.sleep(0.02)
        await dispatcher.stop(grace=0)
        await running

    asyncio.run(asyncio.wait_for(go(), timeout=30))
    by_channel = deliveries(runtime)
    assert by_channel[fast["id"]].status == "published"
    assert by_channel[slow["id"]].status == "unknown"
    assert by_channel[slow["id"]].last_error == "the worker shut down during the call"
    assert by_channel[slow["id"]].lease_owner is None


def test_outcomes_survive_a_failed_database_step_and_are_written_by_the_next(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    due_post(client, admin, sink)
    clock.advance(seconds=1)
    failures: list[str] = []

    def fail_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO delivery_attempts") and not failures:
            failures.append(statement)
            raise RuntimeError("the database went away for a moment")

    event.listen(runtime.engine, "before_cursor_execute", fail_once)
    try:

        async def go() -> None:
            dispatcher = Dispatcher(runtime)
            try:
                with pytest.raises(RuntimeError, match="went away"):
                    await dispatcher.drain()  # publishes, then fails to record
                d = await asyncio.to_thread(only_delivery, runtime)
                assert d.status == "publishing"  # the failed step left nothing half-written
                await dispatcher.drain()
            finally:
                await dispatcher.http.aclose()

        asyncio.run(go())
    finally:
        event.remove(runtime.engine, "before_cursor_execute", fail_once)
    assert len(failures) == 1
    d = only_delivery(runtime)
    assert (d.status, d.attempts, d.lease_owner) == ("published", 1, None)
    assert len(sink.requests) == 1  # written later, never published twice
    with runtime.sessions() as session:
        assert session.scalars(select(DeliveryAttempt.outcome)).all() == ["published"]


def test_a_connector_that_succeeds_is_recorded_once(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    obj = objective(client, admin)
    hook = webhook_channel(client, admin, url=sink.url_for("/hook"))
    for n in range(3):
        schedule(client, admin, obj, [hook], DUE, text=f"post {n}")
    clock.advance(seconds=1)
    drain(runtime)
    with runtime.sessions() as session:
        statuses = session.scalars(select(Delivery.status)).all()
    assert statuses == ["published"] * 3
    assert len(sink.requests) == 3
