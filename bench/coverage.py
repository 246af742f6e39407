"""The coverage computation over a large calendar: 50 objectives x 90 days."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.config import Settings
from app.coverage.service import cells
from app.objectives.models import Objective
from app.runtime import Runtime
from bench.engine import SECRET, fill


def run(
    url: str, *, posts: int, objectives: int = 50, days: int = 90, repeats: int = 3
) -> dict[str, float]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fill_started = time.perf_counter()
    # A year of posts, one objective each; the request looks at 90 days of it.
    fill(
        url,
        posts=posts,
        channels=20,
        due=start,
        sink_url="http://127.0.0.1:9",
        objectives=objectives,
        spread=timedelta(days=365),
    )
    fill_seconds = time.perf_counter() - fill_started
    runtime = Runtime.build(Settings(_env_file=None, database_url=url, secret_key=SECRET))  # type: ignore[call-arg]
    first, last = date(2026, 3, 1), date(2026, 3, 1) + timedelta(days=days - 1)
    timings = []
    try:
        for _ in range(repeats):
            began = time.perf_counter()
            with runtime.sessions() as session:
                chosen = list(session.scalars(select(Objective)))
                result = cells(session, chosen, first, last, now=datetime(2026, 6, 1, tzinfo=UTC))
            timings.append(time.perf_counter() - began)
        planned = sum(c.planned for c in result)
    finally:
        runtime.close()
    return {
        "seconds": min(timings),
        "cells": len(result),
        "planned": planned,
        "fill_seconds": fill_seconds,
    }
