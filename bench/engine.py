"""Cadence end to end: posts due at one moment, real `cadence worker` processes, the sink."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from app.channels.models import Channel
from app.crypto import CredentialBox
from app.db import make_engine, new_id
from app.migrate import upgrade
from app.objectives.models import Objective
from app.posts.models import Delivery, Post, post_objectives
from app.users.models import User
from bench.common import percentile, sink_reset, sink_stats
from tests.fakes.processes import start_worker

SECRET = "bench-secret-key-of-at-least-32-bytes"


def fresh_database(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(url.removeprefix("sqlite:///"))
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def fill(
    url: str,
    *,
    posts: int,
    channels: int,
    due: datetime,
    sink_url: str,
    objectives: int = 1,
    spread: timedelta = timedelta(0),
) -> None:
    """Insert `posts` posts, each on one of `channels` webhook channels and one of
    `objectives`, due at `due` (or spread evenly over `spread` from it)."""
    fresh_database(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    box = CredentialBox([SECRET])
    user_id = new_id()
    objective_ids = [new_id() for _ in range(objectives)]
    step = spread / posts if posts else timedelta(0)
    channel_ids = [new_id() for _ in range(channels)]
    sealed = box.seal({})
    with engine.begin() as conn:
        conn.execute(
            insert(User),
            [
                {
                    "id": user_id,
                    "email": "bench@example.org",
                    "name": "",
                    "role": "admin",
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(Objective),
            [
                {
                    "id": oid,
                    "name": f"Bench {i}",
                    "name_key": f"bench {i}",
                    "description": "",
                    "color": "#000000",
                    "min_posts_per_day": 1,
                    "active_weekdays": list(range(7)),
                    "timezone": ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata")[i % 4],
                    "archived": False,
                    "created_at": now - timedelta(days=3650),
                    "updated_at": now,
                }
                for i, oid in enumerate(objective_ids)
            ],
        )
        conn.execute(
            insert(Channel),
            [
                {
                    "id": cid,
                    "name": f"sink {i}",
                    "platform": "webhook",
                    "audience": "internal",
                    "config": {"url": f"{sink_url}/hook/{i}"},
                    "credentials_encrypted": sealed,
                    "receives_alerts": False,
                    "status": "active",
                    "status_reason": None,
                    "created_at": now,
                    "updated_at": now,
                }
                for i, cid in enumerate(channel_ids)
            ],
        )
        chunk = 5000
        for start in range(0, posts, chunk):
            ids = [new_id() for _ in range(min(chunk, posts - start))]
            conn.execute(
                insert(Post),
                [
                    {
                        "id": pid,
                        "text": f"post {start + n}",
                        "title": None,
                        "link": None,
                        "internal_only": False,
                        "state": "scheduled",
                        "scheduled_at": due + step * (start + n),
                        "created_by_id": user_id,
                        "updated_by_id": user_id,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, pid in enumerate(ids)
                ],
            )
            conn.execute(
                insert(post_objectives),
                [
                    {"post_id": pid, "objective_id": objective_ids[(start + n) % objectives]}
                    for n, pid in enumerate(ids)
                ],
            )
            conn.execute(
                insert(Delivery),
                [
                    {
                        "id": new_id(),
                        "post_id": pid,
                        "channel_id": channel_ids[(start + n) % channels],
                        "status": "scheduled",
                        "attempts": 0,
                        "next_attempt_at": due + step * (start + n),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, pid in enumerate(ids)
                ],
            )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would gather
    engine.dispose()


def worker_env(url: str, **settings: object) -> dict[str, str]:
    env = {
        "CADENCE_DATABASE_URL": url,
        "CADENCE_SECRET_KEY": SECRET,
        "CADENCE_LOG_LEVEL": "WARNING",
        # The sink runs on this machine: allowed as an operator would allow it.
        "CADENCE_OUTBOUND_ALLOW": "127.0.0.1",
    }
    env.update({f"CADENCE_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def run(
    url: str,
    *,
    sink_url: str,
    workers: int,
    posts: int,
    channels: int,
    workdir: Path,
    lead: float = 15.0,
    **settings: object,
) -> dict[str, float]:
    sink_reset(sink_url)
    due = datetime.now(UTC) + timedelta(seconds=lead + 2)
    fill(url, posts=posts, channels=channels, due=due, sink_url=sink_url)
    procs = [
        start_worker(worker_env(url, **settings), workdir / f"bench-worker-{i}.log")
        for i in range(workers)
    ]
    try:
        deadline = time.time() + lead + 600
        while time.time() < deadline:
            if len(sink_stats(sink_url)["keys"]) >= posts:  # type: ignore[arg-type]
                break
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a worker died; see {workdir}")
            time.sleep(0.2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    stats = sink_stats(sink_url)
    keys: dict[str, int] = stats["keys"]  # type: ignore[assignment]
    arrivals = list(stats["arrivals"].values())  # type: ignore[attr-defined]
    lags = [t - due.timestamp() for t in arrivals]
    return {
        "per_second": len(arrivals) / max(max(arrivals) - due.timestamp(), 1e-9),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "duplicates": sum(n - 1 for n in keys.values()),
        "missing": posts - len(keys),
    }


def rss_with_future_posts(
    url: str, *, posts: int, sink_url: str, workdir: Path, settle: float = 8.0
) -> dict[str, float]:
    """Resident memory of an idle worker with `posts` future posts in the database."""
    fill(
        url, posts=posts, channels=100, due=datetime.now(UTC) + timedelta(days=1), sink_url=sink_url
    )
    proc = start_worker(worker_env(url), workdir / "bench-rss.log")
    try:
        time.sleep(settle)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss_kb = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return {"rss_mb": rss_kb / 1024}
