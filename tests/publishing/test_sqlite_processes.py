"""Two OS processes claiming from the same SQLite file never claim the same delivery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.clock import FrozenClock
from app.posts.models import Delivery
from app.runtime import Runtime
from tests.helpers import objective, webhook_channel
from tests.publishing.test_claims import schedule

ROOT = Path(__file__).resolve().parents[2]

# Claims a few at a time and reports each claimed delivery published, until nothing is
# left, once the test says go (so that both processes run at the same time).
CLAIMER = """
import json, random, sys, time
from datetime import datetime, timedelta
from pathlib import Path
from app.config import Settings
from app.clock import FrozenClock
from app.db import transaction
from app.publishing.claims import claim_due, next_due_at
from app.publishing.outcomes import Outcome, record_outcomes
from app.runtime import Runtime
from connectors.base import OutcomeKind

url, owner, now, go = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), Path(sys.argv[4])
runtime = Runtime.build(
    Settings(_env_file=None, database_url=url, secret_key="test-secret-key"),
    clock=FrozenClock(now),
)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
claimed = []
while True:
    with transaction(runtime.sessions) as session:
        jobs = claim_due(
            session, now=now, owner=owner, lease=timedelta(seconds=60), limit=3,
            per_channel=1, max_lateness=timedelta(hours=6), media_dir=Path("."),
            base_url="http://cadence.test",
        )
    if not jobs:
        with runtime.sessions() as session:
            if next_due_at(session) is None:
                break
        time.sleep(0.005)
        continue
    claimed += [j.delivery_id for j in jobs]
    time.sleep(random.random() / 200)  # the calls
    with transaction(runtime.sessions) as session:
        record_outcomes(
            session,
            [Outcome(j.delivery_id, OutcomeKind.published, now, now) for j in jobs],
            worker=owner, now=now, max_attempts=5, backoff=lambda n: timedelta(seconds=1),
        )
print(json.dumps(claimed), flush=True)
"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_processes_never_claim_the_same_delivery(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    database_url: str,
    tmp_path: Path,
) -> None:
    obj = objective(client, admin)
    channels = [webhook_channel(client, admin, name=f"C{i}") for i in range(8)]
    for n in range(25):
        schedule(client, admin, obj, channels, "2026-11-23T09:00:01Z", text=f"post {n}")
    clock.advance(seconds=5)
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, database_url, owner, clock.now().isoformat(), str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for owner in ("p1", "p2")
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0]
    first, second = (json.loads(out.strip().splitlines()[-1]) for out in outputs)
    assert first and second, "both processes claimed"
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    assert set(first).isdisjoint(second)
    with runtime.sessions() as session:
        all_ids = set(session.scalars(select(Delivery.id)))
        published = session.scalar(select(func.count()).where(Delivery.status == "published"))
    assert set(first) | set(second) == all_ids
    assert published == len(all_ids) == 200
