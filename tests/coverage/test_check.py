"""The coverage check: alerts open once per objective-day, resolve by themselves,
and are announced once to every alert channel (a real webhook and a real SMTP server)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.announce import announce
from app.alerts.models import Alert
from app.clock import FrozenClock
from app.config import Settings
from app.coverage.service import check
from app.db import transaction
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from tests.connectors.smtp import SmtpServer
from tests.fakes.sinks import Answer, SinkServer
from tests.helpers import API, objective, post, webhook_channel


@pytest.fixture
def sink() -> Any:
    with SinkServer() as server:
        yield server


@pytest.fixture
def smtp() -> Any:
    with SmtpServer() as server:
        yield server


def run_check(runtime: Runtime) -> tuple[list[str], list[str]]:
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        result = check(session, now=now, lookahead_days=runtime.settings.coverage_lookahead_days)
        announce(session, now=now, base_url=runtime.settings.base_url)
    return result.opened, result.resolved


def publish_due(runtime: Runtime) -> None:
    async def go() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(go())


def open_alerts(runtime: Runtime) -> list[Alert]:
    with runtime.sessions() as session:
        return list(
            session.scalars(select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.day))
        )


def alert_channels(
    client: TestClient, admin: dict[str, str], sink: SinkServer, smtp: SmtpServer
) -> None:
    webhook_channel(
        client, admin, name="Comms hook", url=sink.url_for("/alerts"), receives_alerts=True
    )
    response = client.post(
        f"{API}/channels",
        json={
            "name": "Comms list",
            "platform": "email",
            "config": {
                "host": smtp.host,
                "port": smtp.port,
                "security": "none",
                "from_address": "cadence@example.org",
                "to_addresses": ["comms@example.org"],
            },
            "receives_alerts": True,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text


def test_an_empty_objective_opens_one_alert_per_lookahead_day_announced_once(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
    smtp: SmtpServer,
) -> None:
    alert_channels(client, admin, sink, smtp)
    events = objective(client, admin, name="Events")
    opened, resolved = run_check(runtime)
    assert len(opened) == 7 and resolved == []
    alerts = open_alerts(runtime)
    assert alerts[0].day.isoformat() == "2026-11-23" if alerts[0].day else False
    assert alerts[1].message == "No post planned for *Events* on Tue 24 Nov — 0 of 1"
    assert {a.kind for a in alerts} == {"objective_uncovered"}

    # Checking again, in any number of runs, opens nothing new and announces nothing twice.
    # The seven days to come wait for the daily summary (09:00): one message, not seven.
    assert run_check(runtime) == ([], [])
    publish_due(runtime)
    publish_due(runtime)
    assert len(sink.requests_to("/alerts")) == 1
    assert len(smtp.received) == 1
    [summary] = [r.json() for r in sink.requests_to("/alerts")]
    assert summary["title"] == "Cadence daily summary: 7 not covered yet, 0 resolved"
    assert "*Events*" in summary["text"] and summary["text"].count("No post planned") == 7
    assert "http://cadence.test/calendar?day=2026-11-24" in summary["text"]
    assert summary["link"] == "http://cadence.test/alerts"
    assert smtp.received[0].message["Subject"].startswith("Cadence daily summary")

    # Scheduling a post that day resolves its alert (at once, through the post's API call);
    # the resolution is not announced alone but folded into the next message.
    hook = webhook_channel(client, admin, name="Intranet", url=sink.url_for("/posts"))
    created = post(
        client,
        admin,
        text="Open evening",
        objective_ids=[events["id"]],
        channel_ids=[hook["id"]],
        scheduled_at="2026-11-24T18:00:00Z",
    )
    assert {
        "objective_id": events["id"],
        "day": "2026-11-24",
        "required": 1,
        "planned": 1,
        "covered": True,
    }.items() <= created["coverage"][0].items()
    assert [a.day.isoformat() for a in open_alerts(runtime) if a.day] == [
        "2026-11-23",
        *[f"2026-11-{d}" for d in range(25, 30)],
    ]
    run_check(runtime)
    publish_due(runtime)
    assert len(sink.requests_to("/alerts")) == 1
    # Past noon, today's uncovered objective needs action now: it was in the summary
    # already, so nothing is repeated. The next morning, the missed day goes at once,
    # with the resolutions since the last message folded in.
    clock.set(clock.now().replace(hour=12, minute=30))
    run_check(runtime)
    publish_due(runtime)
    assert len(sink.requests_to("/alerts")) == 1
    clock.set(clock.now().replace(day=24, hour=9, minute=0))
    run_check(runtime)
    publish_due(runtime)
    # (Both made by the same run: they may go out in either order.)
    bodies = [r.json() for r in sink.requests_to("/alerts")]
    bodies = [bodies[0], *sorted(bodies[1:], key=lambda b: str(b["title"]))]
    assert [b["title"] for b in bodies[1:]] == [
        "Cadence alerts: 1 need action now, 2 resolved",
        "Cadence daily summary: 1 not covered yet, 0 resolved",
    ]
    assert "Events was missed on Mon 23 Nov" in bodies[1]["text"]
    assert "Resolved since the last message:" in bodies[1]["text"]
    assert "- No post planned for Events on Tue 24 Nov — 0 of 1" in bodies[1]["text"]
    assert "Mon 30 Nov" in bodies[2]["text"]
    assert len(smtp.received) == 3

    # Cancelling it leaves the day uncovered again: a new alert, announced again.
    response = client.delete(f"{API}/posts/{created['id']}", headers=admin)
    assert response.status_code == 200
    assert response.json()["coverage"][0]["covered"] is False
    assert "2026-11-24" in [a.day.isoformat() for a in open_alerts(runtime) if a.day]


def test_a_failed_delivery_leaves_the_day_missed(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    events = objective(client, admin, name="Events")
    hook = webhook_channel(client, admin, url=sink.url_for("/posts"))
    post(
        client,
        admin,
        text="Today",
        objective_ids=[events["id"]],
        channel_ids=[hook["id"]],
        scheduled_at="2026-11-23T10:00:00Z",
    )
    run_check(runtime)
    assert "2026-11-23" not in [a.day.isoformat() for a in open_alerts(runtime) if a.day]

    sink.answer(Answer(status=400, body=b"no thanks"), path="/posts")
    clock.set(clock.now().replace(hour=10))
    publish_due(runtime)
    # The failure re-checks the objective at once: today is uncovered now.
    today = [a for a in open_alerts(runtime) if a.day and a.day.isoformat() == "2026-11-23"]
    assert [a.kind for a in today] == ["objective_uncovered"]

    clock.advance(days=1)
    run_check(runtime)
    with runtime.sessions() as session:
        kinds = {
            (a.kind, a.day.isoformat() if a.day else None, a.resolved_at is None)
            for a in session.scalars(select(Alert))
        }
    assert ("objective_missed", "2026-11-23", True) in kinds
    assert ("objective_uncovered", "2026-11-23", False) in kinds  # ended with the day
    assert ("delivery_failed", None, True) in kinds


def test_days_before_the_objective_existed_are_not_missed(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    objective(client, admin, name="New")
    clock.advance(days=1)
    run_check(runtime)
    with runtime.sessions() as session:
        missed = session.scalars(select(Alert).where(Alert.kind == "objective_missed")).all()
    assert [a.day.isoformat() for a in missed if a.day] == ["2026-11-23"]


@pytest.mark.postgres
def test_concurrent_checks_open_each_alert_once(
    postgres_url: str, tmp_path: Any, clock: FrozenClock
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=postgres_url,
        secret_key="k",
        media_dir=tmp_path,
        timezone="UTC",
    )  # type: ignore[call-arg]
    runtime = Runtime.build(settings, clock=clock)
    try:
        from app.objectives import service as objectives
        from app.objectives.schemas import ObjectiveCreate

        with transaction(runtime.sessions) as session:
            for name in ("A", "B", "C"):
                objectives.create(
                    session,
                    data=ObjectiveCreate(name=name),
                    default_timezone="UTC",
                    now=clock.now(),
                )
        barrier = threading.Barrier(6)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                barrier.wait()
                run_check(runtime)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with runtime.sessions() as session:
            alerts = session.scalars(select(Alert)).all()
        assert len(alerts) == 3 * 7
        assert len({a.dedupe_key for a in alerts}) == 3 * 7
    finally:
        runtime.close()


def test_lookahead_setting(runtime: Runtime, client: TestClient, admin: dict[str, str]) -> None:
    objective(client, admin, name="Short")
    runtime.settings.coverage_lookahead_days = 2  # today and tomorrow
    opened, _ = run_check(runtime)
    assert len(opened) == 2
