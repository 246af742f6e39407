"""The delivery state machine: what each outcome kind does to a claimed delivery."""

from __future__ import annotations

import random
from datetime import timedelta
from functools import partial

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.models import Alert
from app.channels.models import Channel
from app.clock import FrozenClock
from app.db import transaction
from app.posts.models import Delivery, DeliveryAttempt
from app.publishing.outcomes import Outcome, record_outcomes
from app.publishing.recovery import recover_expired_leases
from app.publishing.retry import backoff
from app.runtime import Runtime
from tests.helpers import objective, webhook_channel
from tests.publishing.test_claims import LEASE, claim, schedule

BACKOFF = partial(backoff, base=30, cap=3600, rng=random.Random(7))


@pytest.fixture
def claimed(client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock) -> str:
    obj, hook = objective(client, admin), webhook_channel(client, admin)
    schedule(client, admin, obj, [hook], "2026-11-23T09:00:01Z", text="News")
    clock.advance(seconds=1)
    [job] = claim(runtime)
    return job.delivery_id


def record(
    runtime: Runtime, outcome: Outcome, worker: str = "w1", max_attempts: int = 5
) -> Delivery:
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        record_outcomes(
            session, [outcome], worker=worker, now=now, max_attempts=max_attempts, backoff=BACKOFF
        )
    with runtime.sessions() as session:
        delivery = session.get(Delivery, outcome.delivery_id)
        assert delivery is not None
        return delivery


def outcome(delivery_id: str, kind: str, runtime: Runtime, **extra: object) -> Outcome:
    now = runtime.clock.now()
    return Outcome(delivery_id=delivery_id, kind=kind, started_at=now, finished_at=now, **extra)  # type: ignore[arg-type]


def alerts(runtime: Runtime) -> list[tuple[str, str | None]]:
    """Alerts about deliveries and channels (coverage alerts are tested elsewhere)."""
    with runtime.sessions() as session:
        return [
            (a.kind, a.resolved_at and "resolved")
            for a in session.scalars(
                select(Alert).where(Alert.objective_id.is_(None)).order_by(Alert.opened_at)
            )
        ]


def test_published(claimed: str, runtime: Runtime) -> None:
    d = record(
        runtime,
        outcome(
            claimed, "published", runtime, external_id="42", permalink="https://example.org/42"
        ),
    )
    assert (d.status, d.attempts, d.external_id, d.permalink) == (
        "published",
        1,
        "42",
        "https://example.org/42",
    )
    assert d.published_at == runtime.clock.now()
    assert d.lease_owner is None and d.last_error is None
    assert alerts(runtime) == []


def test_transient_retries_with_backoff_then_gives_up(
    claimed: str, runtime: Runtime, clock: FrozenClock
) -> None:
    d = record(runtime, outcome(claimed, "transient", runtime, message="HTTP 503"), max_attempts=2)
    assert d.status == "retrying" and d.attempts == 1 and d.last_error == "HTTP 503"
    assert d.next_attempt_at is not None
    delay = d.next_attempt_at - clock.now()
    assert timedelta(seconds=15) <= delay <= timedelta(seconds=30)  # base 30 s, equal jitter
    clock.set(d.next_attempt_at)
    [job] = claim(runtime)
    d = record(
        runtime, outcome(job.delivery_id, "transient", runtime, message="HTTP 502"), max_attempts=2
    )
    assert d.status == "failed" and d.attempts == 2
    assert d.last_error == "gave up after 2 attempts: HTTP 502"
    assert alerts(runtime) == [("delivery_failed", None)]


def test_rate_limit_waits_for_the_reset_without_using_an_attempt(
    claimed: str, runtime: Runtime, clock: FrozenClock
) -> None:
    reset = clock.now() + timedelta(minutes=15)
    d = record(runtime, outcome(claimed, "rate_limited", runtime, message="429", retry_at=reset))
    assert d.status == "retrying" and d.attempts == 0 and d.next_attempt_at == reset
    clock.set(reset - timedelta(seconds=1))
    assert claim(runtime) == []
    clock.set(reset)
    assert len(claim(runtime)) == 1


def test_auth_expired_fails_and_marks_the_channel(claimed: str, runtime: Runtime) -> None:
    d = record(runtime, outcome(claimed, "auth_expired", runtime, message="token revoked"))
    assert d.status == "failed" and d.error_kind == "auth_expired"
    with runtime.sessions() as session:
        channel = session.get(Channel, d.channel_id)
        assert channel is not None
        assert channel.status == "needs_reconnect" and channel.status_reason == "token revoked"
    assert sorted(alerts(runtime)) == [("channel_needs_reconnect", None), ("delivery_failed", None)]


def test_permanent_fails_with_the_platform_message(claimed: str, runtime: Runtime) -> None:
    d = record(runtime, outcome(claimed, "permanent", runtime, message="duplicate content"))
    assert (d.status, d.last_error, d.attempts) == ("failed", "duplicate content", 1)


def test_ambiguous_becomes_unknown_and_is_not_retried(
    claimed: str, runtime: Runtime, clock: FrozenClock
) -> None:
    d = record(runtime, outcome(claimed, "ambiguous", runtime, message="read timeout"))
    assert d.status == "unknown" and d.next_attempt_at is None
    assert alerts(runtime) == [("delivery_unknown", None)]
    clock.advance(days=1)
    assert claim(runtime) == []


def test_a_person_retries_an_unknown_delivery_and_success_resolves_the_alert(
    claimed: str, runtime: Runtime, client: TestClient, admin: dict[str, str]
) -> None:
    record(runtime, outcome(claimed, "ambiguous", runtime, message="read timeout"))
    assert client.post(f"/api/v1/deliveries/{claimed}/retry", headers=admin).status_code == 200
    [job] = claim(runtime)
    record(runtime, outcome(job.delivery_id, "published", runtime, external_id="1"))
    assert alerts(runtime) == [("delivery_unknown", "resolved")]
    with runtime.sessions() as session:
        outcomes = session.scalars(
            select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.number)
        ).all()
    assert outcomes == ["ambiguous", "published"]


def test_an_expired_lease_makes_the_outcome_unknown(
    claimed: str, runtime: Runtime, clock: FrozenClock
) -> None:
    clock.advance(seconds=LEASE.total_seconds() - 1)
    with transaction(runtime.sessions) as session:
        assert recover_expired_leases(session, now=clock.now()) == []
    clock.advance(seconds=2)
    with transaction(runtime.sessions) as session:
        assert recover_expired_leases(session, now=clock.now()) == [claimed]
    with runtime.sessions() as session:
        d = session.get(Delivery, claimed)
        assert d is not None and d.status == "unknown"
    # The stalled worker's late failure report changes nothing a person now sees...
    d = record(runtime, outcome(claimed, "permanent", runtime, message="late"))
    assert d.status == "unknown"
    # ...but a late success is news worth keeping.
    d = record(runtime, outcome(claimed, "published", runtime, external_id="9"))
    assert d.status == "published" and d.external_id == "9"
    assert alerts(runtime) == [("delivery_unknown", "resolved")]


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(1)
    delays = [backoff(n, base=10, cap=100, rng=rng).total_seconds() for n in range(1, 7)]
    for n, delay in enumerate(delays, start=1):
        full = min(100, 10 * 2 ** (n - 1))
        assert full / 2 <= delay <= full
