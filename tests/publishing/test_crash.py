"""The crash test: three real `cadence worker` processes on PostgreSQL, one killed with
SIGKILL mid-run. No delivery may reach the webhook twice; every delivery must end
`published` or `unknown`, none lost and none left `publishing` after its lease.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.clock import SystemClock
from app.config import Settings
from app.db import transaction
from app.objectives.schemas import ObjectiveCreate
from app.posts.models import Delivery
from app.posts.schemas import PostCreate
from app.runtime import Runtime
from app.users.models import Role
from app.users.service import get_or_create_user
from tests.conftest import FAKES_ALLOWED
from tests.fakes.processes import start_sink, start_worker

CHANNELS = 20
POSTS = 100  # x 20 channels = 2,000 deliveries
LEASE_SECONDS = 4


def sink_stats(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/stats", timeout=10) as response:
        stats: dict[str, object] = json.load(response)
        return stats


@pytest.mark.postgres
def test_kill_a_worker_mid_run(postgres_url: str, tmp_path: Path) -> None:
    from app.channels import service as channels
    from app.channels.schemas import ChannelCreate
    from app.objectives import service as objectives
    from app.posts import service as posts

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=postgres_url,
        secret_key="crash-test-key-of-at-least-32-bytes",
        media_dir=tmp_path / "media",
        outbound_allow=FAKES_ALLOWED,
    )
    runtime = Runtime.build(settings, clock=SystemClock())
    sink, sink_url = start_sink(delay_ms=15)
    workers = []
    try:
        now = runtime.clock.now()
        due = now + timedelta(seconds=3)
        with transaction(runtime.sessions) as session:
            user = get_or_create_user(session, email="crash@example.org", role=Role.admin, now=now)
            objective = objectives.create(
                session, data=ObjectiveCreate(name="Crash"), default_timezone="UTC", now=now
            )
            channel_ids = [
                channels.create(
                    session,
                    data=ChannelCreate(
                        name=f"sink {i}",
                        platform="webhook",
                        audience="internal",
                        config={"url": f"{sink_url}/hook/{i}"},
                    ),
                    box=runtime.box,
                    now=now,
                    outbound=runtime.settings.outbound_policy(),
                ).id
                for i in range(CHANNELS)
            ]
            for n in range(POSTS):
                posts.create(
                    session,
                    data=PostCreate(
                        text=f"post {n}",
                        objective_ids=[objective.id],
                        channel_ids=channel_ids,
                        scheduled_at=due,
                    ),
                    user=user,
                    now=now,
                    media_dir=settings.media_dir,
                    base_url=settings.base_url,
                )
        total = CHANNELS * POSTS

        env = {
            "CADENCE_DATABASE_URL": postgres_url,
            "CADENCE_SECRET_KEY": "crash-test-key-of-at-least-32-bytes",
            "CADENCE_LEASE_SECONDS": str(LEASE_SECONDS),
            "CADENCE_PER_CHANNEL_CONCURRENCY": "2",
            "CADENCE_PUBLISH_CONCURRENCY": "16",
            "CADENCE_LOG_LEVEL": "WARNING",
            "CADENCE_OUTBOUND_ALLOW": FAKES_ALLOWED,
            "CADENCE_SHUTDOWN_GRACE_SECONDS": "10",
        }
        workers = [start_worker(env, tmp_path / f"worker{i}.log") for i in range(3)]

        # Kill one worker once publishing is well under way.
        deadline = time.monotonic() + 60
        while int(sink_stats(sink_url)["requests"]) < total // 4:  # type: ignore[call-overload]
            assert time.monotonic() < deadline, "publishing did not start"
            assert all(w.poll() is None for w in workers), "a worker died by itself"
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        received_at_kill = int(sink_stats(sink_url)["requests"])  # type: ignore[call-overload]
        assert received_at_kill < total, "the run ended before the kill; make it longer"

        # Wait until everything is final: published, or unknown once the dead worker's
        # leases expire and a survivor's recovery sweep finds them.
        deadline = time.monotonic() + 90
        while True:
            with runtime.sessions() as session:
                counts = dict(
                    session.execute(
                        select(Delivery.status, func.count()).group_by(Delivery.status)
                    ).all()
                )
            if set(counts) <= {"published", "unknown"} and sum(counts.values()) == total:
                break
            assert time.monotonic() < deadline, f"not final after 90 s: {counts}"
            time.sleep(0.25)

        stats = sink_stats(sink_url)
        keys: dict[str, int] = stats["keys"]  # type: ignore[assignment]
        duplicates = {k: n for k, n in keys.items() if n > 1}
        assert duplicates == {}, f"{len(duplicates)} deliveries arrived twice"
        with runtime.sessions() as session:
            rows = session.execute(select(Delivery.id, Delivery.status, Delivery.lease_owner)).all()
        published = {r.id for r in rows if r.status == "published"}
        unknown = {r.id for r in rows if r.status == "unknown"}
        assert len(published) + len(unknown) == total
        # Everything marked published really arrived; nothing arrived that we do not know of.
        assert published <= set(keys)
        assert set(keys) <= published | unknown
        # Only what the killed worker held can be unknown: at most its concurrency.
        assert 0 < len(unknown) <= 16
        assert all(r.lease_owner is None for r in rows)

        # The survivors stop cleanly on SIGTERM.
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        for worker in workers[1:]:
            assert worker.wait(timeout=30) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        sink.kill()
        runtime.close()
