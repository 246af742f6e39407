"""The naive design, for comparison: one APScheduler date job per post, kept in a
SQLAlchemyJobStore, run by a thread pool at the same concurrency.

Configured fairly: misfire_grace_time=None (a late job still runs), coalesce off,
one persistent HTTP client per thread. Drops are counted, not hidden.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bench.common import percentile, sink_reset, sink_stats

_local = threading.local()


def deliver(url: str, key: str) -> None:
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(timeout=30)
    client.post(url, json={"text": "naive"}, headers={"Idempotency-Key": key}).raise_for_status()


def run(
    sink_url: str, posts: int, concurrency: int, workdir: Path, lead: float = 20.0
) -> dict[str, float]:
    sink_reset(sink_url)
    db = workdir / "naive-jobs.db"
    db.unlink(missing_ok=True)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{db}")},
        executors={"default": ThreadPoolExecutor(concurrency)},
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )
    scheduler.start()
    due = datetime.now(UTC) + timedelta(seconds=lead)
    started = time.perf_counter()
    for i in range(posts):
        scheduler.add_job(
            deliver, "date", run_date=due, args=[f"{sink_url}/naive", f"naive-{i}"], id=f"post-{i}"
        )
    add_seconds = time.perf_counter() - started
    due_ts = due.timestamp()
    deadline = time.time() + lead + 300
    while time.time() < deadline:
        stats = sink_stats(sink_url)
        if len(stats["keys"]) >= posts:  # type: ignore[arg-type]
            break
        time.sleep(0.5)
    scheduler.shutdown(wait=True)
    stats = sink_stats(sink_url)
    arrivals = [t for t in stats["arrivals"].values()]  # type: ignore[attr-defined]
    lags = [t - due_ts for t in arrivals]
    last = max(arrivals) if arrivals else due_ts
    return {
        "add_seconds": add_seconds,
        "per_second": len(arrivals) / max(last - due_ts, 1e-9),
        "lag_p50": percentile(lags, 50),
        "lag_p99": percentile(lags, 99),
        "dropped": posts - len(arrivals),
    }
