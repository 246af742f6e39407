"""Alert messages people read: what needs action goes at once, in one message grouped
by objective; the rest waits for one daily summary; resolutions are folded in, never
sent alone; each alert is said once across processes."""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.announce import Times, announce
from app.alerts.models import AlertKind
from app.alerts.service import open_alert, resolve_alert
from app.clock import FrozenClock
from app.config import Settings
from app.db import transaction
from app.posts.models import Post, PostKind
from app.runtime import Runtime
from tests.helpers import objective

LONDON = Times(zone="Europe/London", urgent_after="12:00", summary_at="09:00")


def _open(runtime: Runtime, kind: AlertKind, key: str, message: str, **subject: Any) -> None:
    with transaction(runtime.sessions) as session:
        open_alert(session, kind=kind, key=key, message=message, now=runtime.clock.now(), **subject)


def _announce(runtime: Runtime, at: datetime) -> int:
    with transaction(runtime.sessions) as session:
        return announce(session, now=at, base_url="http://cadence.test", times=LONDON)


def _messages(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        posts = session.scalars(
            select(Post).where(Post.kind == PostKind.alert).order_by(Post.created_at, Post.id)
        )
        return [(p.title or "", p.text) for p in posts]


def test_urgent_at_once_grouped_by_objective_the_rest_in_the_daily_summary(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    advice = objective(client, admin, name="Advice")
    events = objective(client, admin, name="Events")
    early = datetime.fromisoformat("2026-11-23T07:00:00+00:00")  # before the summary
    for obj, day in ((advice, date(2026, 11, 22)), (events, date(2026, 11, 21))):
        _open(
            runtime,
            AlertKind.objective_missed,
            f"{obj['id']}:{day}",
            f"*{obj['name']}* was missed on {day}",
            objective_id=obj["id"],
            day=day,
        )
    _open(runtime, AlertKind.delivery_failed, "d1", "Delivery failed: post 'x' on Hook")
    for n, obj in enumerate((advice, events, advice)):
        day = date(2026, 11, 24 + n)
        _open(
            runtime,
            AlertKind.objective_uncovered,
            f"{obj['id']}:{day}",
            f"No post planned for *{obj['name']}* on {day}",
            objective_id=obj["id"],
            day=day,
        )
    assert _announce(runtime, early) == 1
    [(title, text)] = _messages(runtime)
    assert title == "Cadence alerts: 3 need action now"
    lines = text.split("\n")
    assert (
        lines[0] == "*Advice*"
        and lines[2] == "*Events*"
        and lines[4] == "*Channels and deliveries*"
    )
    assert "No post planned" not in text  # days to come wait for the summary
    assert _announce(runtime, early) == 0  # nothing twice
    summary = datetime.fromisoformat("2026-11-23T09:00:00+00:00")
    assert _announce(runtime, summary) == 1
    assert _announce(runtime, summary.replace(hour=15)) == 0  # one summary a day
    title, text = _messages(runtime)[1]
    assert title == "Cadence daily summary: 3 not covered yet, 0 resolved"
    assert text.index("*Advice*") < text.index("*Events*")
    assert text.count("No post planned") == 3


def test_today_becomes_urgent_after_noon(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    obj = objective(client, admin, name="Advice")
    _open(
        runtime,
        AlertKind.objective_uncovered,
        f"{obj['id']}:2026-11-23",
        "No post planned for *Advice* today",
        objective_id=obj["id"],
        day=date(2026, 11, 23),
    )
    assert _announce(runtime, datetime.fromisoformat("2026-11-23T08:00:00+00:00")) == 0
    assert _announce(runtime, datetime.fromisoformat("2026-11-23T12:00:00+00:00")) == 1
    assert _messages(runtime)[0][0] == "Cadence alerts: 1 need action now"


def test_resolutions_are_folded_into_the_next_message_never_sent_alone(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    at = datetime.fromisoformat("2026-11-23T07:00:00+00:00")
    _open(runtime, AlertKind.delivery_failed, "d1", "Delivery failed: one")
    assert _announce(runtime, at) == 1
    with transaction(runtime.sessions) as session:
        resolve_alert(session, kind=AlertKind.delivery_failed, key="d1", now=at)
    # Opened and resolved between two messages: never mentioned at all.
    _open(runtime, AlertKind.delivery_failed, "d2", "Delivery failed: two")
    with transaction(runtime.sessions) as session:
        resolve_alert(session, kind=AlertKind.delivery_failed, key="d2", now=at)
    assert _announce(runtime, at) == 0
    _open(runtime, AlertKind.delivery_unknown, "d3", "Outcome unknown: three")
    assert _announce(runtime, at.replace(minute=5)) == 1
    title, text = _messages(runtime)[1]
    assert title == "Cadence alerts: 1 need action now, 1 resolved"
    assert "Outcome unknown: three" in text
    assert "Resolved since the last message:\n- Delivery failed: one" in text
    assert "two" not in text


def test_two_processes_announcing_at_once_say_each_alert_once(
    client: TestClient, admin: dict[str, str], settings: Settings, clock: FrozenClock
) -> None:
    runtimes = [Runtime.build(settings, clock=clock) for _ in range(3)]
    for n in range(20):
        _open(runtimes[0], AlertKind.delivery_failed, f"d{n}", f"Delivery failed: {n}")
    at = datetime.fromisoformat("2026-11-23T09:30:00+00:00")
    start = threading.Barrier(len(runtimes))
    made: list[int] = []

    def run(rt: Runtime) -> None:
        start.wait()
        made.append(_announce(rt, at))

    threads = [threading.Thread(target=run, args=(rt,)) for rt in runtimes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    said = _messages(runtimes[0])
    for rt in runtimes:
        rt.close()
    assert sum(made) == len(said)
    assert sum(text.count("Delivery failed:") for _, text in said) == 20
