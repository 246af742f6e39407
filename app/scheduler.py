"""APScheduler wiring only: which periodic jobs run in this process, and how often.

Each process keeps its jobs in memory (APScheduler 3 must never share a job store
between processes); processes coordinate through claims in the database. There is
no job per post: the dispatcher asks the database what is due, so an edit or a
cancel takes effect at once.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.connect.keeper import keep_tokens
from app.insights.collect import Collector
from app.insights.digest import DIGEST_CHECK_SECONDS, send_digest_job
from app.planning.library import autofill_all
from app.planning.series import extend_all
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.team.jobs import team_jobs

log = logging.getLogger(__name__)
ANNOUNCE_INTERVAL_SECONDS = 5.0


class Scheduler:
    def __init__(self, runtime: Runtime, *, dispatcher: Dispatcher | None = None) -> None:
        self.runtime = runtime
        self.dispatcher = dispatcher or Dispatcher(runtime)
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._run: asyncio.Task[None] | None = None
        self._job_runs: set[asyncio.Task[object]] = set()
        # insights
        self.collector = Collector(runtime, owner=self.dispatcher.owner, http=self.dispatcher.http)

    def start(self) -> None:
        """Start in the running event loop."""
        settings = self.runtime.settings
        lease = settings.lease_seconds
        jobs: tuple[tuple[str, Callable[[], Awaitable[None] | None], float], ...] = (
            # The dispatcher also wakes itself for the next due time and after each batch;
            # the tick is the floor that catches changes made by other processes.
            ("dispatch-tick", self.dispatcher.wake, settings.dispatch_interval_seconds),
            ("renew-leases", self.dispatcher.renew_leases, max(1.0, lease / 3)),
            ("recover-leases", self.dispatcher.recover, max(1.0, lease / 4)),
            ("coverage-check", self.dispatcher.check_coverage, settings.coverage_interval_seconds),
            # Alerts opened by any process (an API request, another worker) go out soon.
            ("announce-alerts", self.dispatcher.announce_alerts, ANNOUNCE_INTERVAL_SECONDS),
            # connecting accounts
            (
                "token-keeper",
                partial(keep_tokens, self.runtime, self.dispatcher.http),
                settings.token_check_interval_seconds,
            ),
            # team workflow
            *team_jobs(self.runtime, self.dispatcher),
            # planning
            ("extend-series", self._extend_series, settings.recurrence_interval_seconds),
            ("autofill", self._autofill, settings.coverage_interval_seconds),
            # exchange
            # insights
            ("collect-metrics", self.collector.collect, settings.metrics_interval_seconds),
            ("weekly-digest", self._send_digest, DIGEST_CHECK_SECONDS),
        )
        for job_id, func, seconds in jobs:
            self._aps.add_job(
                self._tracked(func),
                "interval",
                seconds=seconds,
                id=job_id,
                name=job_id,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        # The first coverage check runs at start, not one interval later.
        self._aps.get_job("coverage-check").modify(next_run_time=datetime.now(UTC))
        self._aps.start()
        self._run = asyncio.get_running_loop().create_task(self.dispatcher.run())
        self.runtime.wake_dispatcher = self.dispatcher.wake
        log.info(
            "worker %s started: publishing due posts, up to %d at a time",
            self.dispatcher.owner,
            settings.publish_concurrency,
            extra={"worker": self.dispatcher.owner},
        )

    async def _send_digest(self) -> None:  # insights
        await send_digest_job(self.runtime, self.dispatcher.wake)

    async def _extend_series(self) -> None:
        """Occurrences of recurring posts that came within the horizon (app/planning)."""
        now = self.runtime.clock.now()
        made = await asyncio.to_thread(extend_all, self.runtime, now=now)
        if made:
            log.info("recurring posts: %d occurrences made", made, extra={"made": made})

    async def _autofill(self) -> None:
        """Uncovered days filled from the evergreen library (app/planning/library.py)."""
        made = await asyncio.to_thread(autofill_all, self.runtime, now=self.runtime.clock.now())
        if made:
            log.info("auto-fill: %d posts made from the library", made, extra={"made": made})
            self.dispatcher.wake()

    def _tracked(self, func: Callable[[], Awaitable[None] | None]) -> Callable[[], Awaitable[None]]:
        """`func` as a coroutine job whose runs stop() can wait for."""

        async def run() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._job_runs.add(task)
            try:
                result = func()
                if inspect.isawaitable(result):
                    await result
            finally:
                if task is not None:
                    self._job_runs.discard(task)

        return run

    async def stop(self) -> None:
        self.runtime.wake_dispatcher = lambda: None
        # Job runs cut short by the shutdown would each be logged as an error with a
        # traceback: let the ones under way finish first (they are short).
        self._aps.pause()
        await asyncio.sleep(0)  # runs submitted just now start and are tracked
        if self._job_runs:
            await asyncio.wait(
                set(self._job_runs), timeout=self.runtime.settings.shutdown_grace_seconds
            )
        self._aps.shutdown(wait=False)
        await self.dispatcher.stop()
        if self._run is not None:
            await self._run
        log.info(
            "worker %s stopped", self.dispatcher.owner, extra={"worker": self.dispatcher.owner}
        )
