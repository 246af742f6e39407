"""The dispatcher: claim due deliveries, publish them concurrently, record the outcomes.

Runs in an asyncio loop (the `cadence serve` process or a `cadence worker`).
Platform calls are async; database work is synchronous SQLAlchemy on a small
thread pool. One loop does all database work in *steps*: each step is one short
transaction that records the outcomes gathered since the last step and claims
as many due deliveries as there are free slots. Under load, outcomes pile up
while a step runs, so steps grow with the load instead of multiplying.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from sqlalchemy.orm import Session

from app.alerts.announce import Times, announce
from app.channels.service import save_channel_credentials
from app.connect.tokens import refresher
from app.coverage.service import check as coverage_check
from app.coverage.service import objectives_of_posts
from app.db import transaction
from app.exchange import threads
from app.metrics import CLAIMS, LAG_SECONDS, OUTCOMES, PUBLISH_SECONDS
from app.publishing.calls import (
    CallFailure,
    NotSent,
    SettingsCache,
    bounded_call,
    build_connector,
    call_guard_seconds,
    check_media,
)
from app.publishing.claims import Job, claim_due, next_due_at, renew_leases
from app.publishing.outcomes import Outcome, record_outcomes
from app.publishing.recovery import recover_expired_leases
from app.publishing.retry import backoff
from app.runtime import Runtime
from connectors.base import OutcomeKind, PublishRequest, PublishResult
from connectors.registry import Platform, get_platform
from connectors.transport import make_client

log = logging.getLogger(__name__)
T = TypeVar("T")


def _log_outcome(job: Job, outcome: Outcome, *, max_attempts: int) -> None:
    """One line a person can read about what a publish call did."""
    kind = outcome.kind
    request = job.request
    label = " ".join((request.title or request.text).split())
    label = label if len(label) <= 50 else label[:49] + "…"
    platform = get_platform(job.platform).connector.short_label
    where = f"post {label!r} to {platform} {job.channel_name}".rstrip()
    message = outcome.message
    level = logging.INFO
    if kind == OutcomeKind.published:
        line = f"published {where}"
        if outcome.permalink:
            line += f" at {outcome.permalink}"
    elif kind == OutcomeKind.rate_limited:
        when = f"after {outcome.retry_at:%Y-%m-%d %H:%M:%SZ}" if outcome.retry_at else "later"
        line = f"{where} was rate limited; trying again {when}"
    elif kind == OutcomeKind.transient and job.attempts + 1 < max_attempts:
        line = f"{where} failed for now (attempt {job.attempts + 1} of {max_attempts}): {message}"
    elif kind == OutcomeKind.ambiguous:
        level = logging.WARNING
        line = f"cannot tell whether {where} went out: {message}; check the platform"
    else:
        level = logging.WARNING
        line = f"could not publish {where}: {message}"
        if kind == OutcomeKind.auth_expired:
            line += "; the channel needs reconnecting"
    log.log(
        level,
        "%s (delivery %s)",
        line,
        job.delivery_id,
        extra={
            "delivery_id": job.delivery_id,
            "post_id": request.post_id,
            "channel_id": job.channel_id,
            "platform": job.platform,
            "outcome": kind.value,
        },
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class Dispatcher:
    def __init__(
        self,
        runtime: Runtime,
        *,
        owner: str | None = None,
        http: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
        call_guard: Callable[[PublishRequest], float] | None = None,
    ) -> None:
        self.runtime = runtime
        self.settings = settings = runtime.settings
        self.owner = owner or worker_name()
        self._own_http = http is None
        self.outbound = settings.outbound_policy()
        self.http = http or make_client(
            timeout=settings.publish_timeout_seconds,
            max_connections=settings.publish_concurrency,
            outbound=self.outbound,
        )
        self._backoff = partial(
            backoff,
            base=settings.retry_base_seconds,
            cap=settings.retry_max_seconds,
            rng=rng or random.Random(),
        )
        # SQLite has one writer at a time: with one database thread, this process's work
        # queues here instead of in SQLite's busy handler, which sleeps in steps of up to
        # 100 ms. PostgreSQL takes a few in parallel (steps, lease renewal, recovery).
        sqlite = runtime.engine.dialect.name == "sqlite"
        self._db_threads = ThreadPoolExecutor(
            max_workers=1 if sqlite else 4, thread_name_prefix="cadence-db"
        )
        # The outer bound of one publish call; tests shorten it.
        self._call_guard = call_guard or (
            lambda request: call_guard_seconds(settings.publish_timeout_seconds, request.media)
        )
        self._channel_settings = SettingsCache()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active: set[str] = set()  # claimed, outcome not yet recorded
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: list[Outcome] = []
        self._stopping = False
        self._stopped = asyncio.Event()

    # -- control -------------------------------------------------------------

    def wake(self) -> None:
        """Ask for a step now. Safe to call from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Claim, publish and record until stop() is called and in-flight work is recorded."""
        self._loop = asyncio.get_running_loop()
        try:
            while not (self._stopping and not self._active):
                self._wake.clear()
                try:
                    claimed, asked = await self._step(claim=not self._stopping)
                except Exception:
                    log.exception("dispatch step failed; trying again after the interval")
                    await asyncio.sleep(self.settings.dispatch_interval_seconds)
                    continue
                if (claimed and claimed == asked) or self._outcomes:
                    continue  # more may be due right now, or outcomes wait to be written
                await self._sleep_until_next()
        finally:
            self._stopped.set()
            # The scheduler says "worker ... stopped" once, for a person.
            log.debug("dispatcher stopped", extra={"worker": self.owner})

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, give in-flight calls `grace` seconds, record everything, close."""
        self._stopping = True
        self._wake.set()
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()  # recorded as unknown: the call was under way
            if pending:
                await asyncio.wait(pending)
        if self._loop is not None:
            self._wake.set()
            await self._stopped.wait()
        if self._own_http:
            await self.http.aclose()
        self._db_threads.shutdown(wait=True)

    async def drain(self) -> None:
        """Publish everything due now and record it, then return (tests)."""
        self._loop = asyncio.get_running_loop()
        while True:
            claimed, _ = await self._step(claim=True)
            if self._tasks:
                await asyncio.wait(set(self._tasks))
            if not claimed and not self._outcomes:
                break

    # -- periodic work (called by the scheduler) -----------------------------

    async def renew_leases(self) -> None:
        if self._active:
            await self._db(
                renew_leases,
                owner=self.owner,
                now=self.runtime.clock.now(),
                lease=self.settings.lease,
            )

    async def check_coverage(self) -> None:
        result = await self._db(
            coverage_check,
            now=self.runtime.clock.now(),
            lookahead_days=self.settings.coverage_lookahead_days,
        )
        if result.opened or result.resolved:
            log.info(
                "coverage checked",
                extra={"opened": len(result.opened), "resolved": len(result.resolved)},
            )
        await self.announce_alerts()

    async def announce_alerts(self) -> None:
        made = await self._db(
            announce,
            now=self.runtime.clock.now(),
            base_url=self.settings.base_url,
            times=Times.of(self.settings),
        )
        if made:
            self.wake()

    async def recover(self) -> None:
        recovered = await self._db(recover_expired_leases, now=self.runtime.clock.now())
        for delivery_id in recovered:
            log.warning(
                "delivery %s: the worker publishing it stopped answering; outcome unknown",
                delivery_id,
                extra={"delivery_id": delivery_id},
            )

    # -- internals -----------------------------------------------------------

    async def _db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        def work() -> T:
            with transaction(self.runtime.sessions) as session:
                return fn(session, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._db_threads, work)

    async def _step(self, *, claim: bool) -> tuple[int, int]:
        """One transaction: record the gathered outcomes, then claim into the free slots."""
        outcomes, self._outcomes = self._outcomes, []
        settings = self.settings
        free = settings.publish_concurrency - (len(self._active) - len(outcomes))
        asked = min(free, settings.dispatch_batch_size) if claim else 0
        if not outcomes and asked <= 0:
            return 0, 0

        def step(session: Session) -> list[Job]:
            now = self.runtime.clock.now()
            failed_posts = record_outcomes(
                session,
                outcomes,
                worker=self.owner,
                now=now,
                max_attempts=settings.max_attempts,
                backoff=self._backoff,
                reconnect_grace=timedelta(hours=settings.reconnect_grace_hours),
            )
            if failed_posts:
                # A post that failed everywhere no longer covers its objective-days.
                coverage_check(
                    session,
                    now=now,
                    lookahead_days=settings.coverage_lookahead_days,
                    objective_ids=objectives_of_posts(session, failed_posts),
                )
            return claim_due(
                session,
                now=now,
                owner=self.owner,
                lease=settings.lease,
                limit=asked,
                per_channel=settings.per_channel_concurrency,
                max_lateness=settings.max_lateness,
                media_dir=settings.media_dir,
                base_url=settings.base_url,
                reconnect_grace=timedelta(hours=settings.reconnect_grace_hours),
            )

        try:
            jobs = await self._db(step)
        except BaseException:
            # Keep the outcomes (and so the leases) for the next step.
            self._outcomes = outcomes + self._outcomes
            raise
        for outcome in outcomes:
            self._active.discard(outcome.delivery_id)
        if jobs:
            CLAIMS.labels(self.owner).inc(len(jobs))
        for job in jobs:
            self._active.add(job.delivery_id)
            task = asyncio.create_task(self._publish(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(jobs), asked

    async def _save_credentials(self, channel_id: str, changed: dict[str, Any]) -> None:
        await self._db(
            save_channel_credentials,
            channel_id=channel_id,
            changed=changed,
            box=self.runtime.box,
            now=self.runtime.clock.now(),
        )

    async def _sleep_until_next(self) -> None:
        timeout = self.settings.dispatch_interval_seconds
        if len(self._active) < self.settings.publish_concurrency and not self._stopping:
            try:
                due = await self._db(next_due_at)
            except Exception:
                log.exception("could not read the next due time")
                due = None
            if due is not None:
                until = (due - self.runtime.clock.now()).total_seconds()
                # Due already but not claimable (its channel is busy): an outcome wakes us.
                if until > 0:
                    timeout = min(timeout, until)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _publish(self, job: Job) -> None:
        clock = self.runtime.clock
        started = clock.now()
        LAG_SECONDS.observe(max(0.0, (started - job.due_at).total_seconds()))
        platform = get_platform(job.platform)
        try:
            result = await self._call(job, platform)
        except asyncio.CancelledError:
            # stop() ran out of grace while the call was under way.
            result = CallFailure(OutcomeKind.ambiguous, "the worker shut down during the call")
        finished = clock.now()
        if isinstance(result, CallFailure):
            outcome = Outcome(
                delivery_id=job.delivery_id,
                kind=result.kind,
                started_at=started,
                finished_at=finished,
                message=result.message,
                retry_at=result.retry_at,
            )
        else:
            outcome = Outcome(
                delivery_id=job.delivery_id,
                kind=OutcomeKind.published,
                started_at=started,
                finished_at=finished,
                external_id=result.external_id,
                permalink=result.permalink,
            )
        PUBLISH_SECONDS.labels(job.platform).observe((finished - started).total_seconds())
        OUTCOMES.labels(job.platform, outcome.kind).inc()
        if log.isEnabledFor(logging.INFO):
            _log_outcome(job, outcome, max_attempts=self.settings.max_attempts)
        self._outcomes.append(outcome)
        self._wake.set()

    async def _call(self, job: Job, platform: Platform) -> PublishResult | CallFailure:
        """Build the channel's connector and publish once, bounded; failures before
        the call (nothing went out) come back as CallFailure too."""
        try:
            settings = self._channel_settings.get(
                platform,
                channel_id=job.channel_id,
                config=job.channel_config,
                credentials_encrypted=job.credentials_encrypted,
                box=self.runtime.box,
            )
            check_media(job.request)
        except NotSent as exc:
            return CallFailure(exc.kind, exc.message)
        try:
            connector = build_connector(
                platform,
                settings,
                http=self.http,
                now=self.runtime.clock.now,
                save_credentials=partial(self._save_credentials, job.channel_id),
                outbound=self.outbound,
                refresh_credentials=refresher(self.runtime, self.http, job.channel_id),
            )
        except Exception as exc:
            log.exception("connector could not be built", extra={"platform": platform.name})
            return CallFailure(
                OutcomeKind.error,
                f"unexpected {type(exc).__name__} setting up the {platform.label} connector",
            )
        # exchange: each part of a thread or first comment is recorded as it goes out.
        request = replace(
            job.request, on_part=threads.recorder(self._db, job.delivery_id, self.runtime.clock.now)
        )
        return await bounded_call(
            connector.publish(request),
            guard=self._call_guard(job.request),
            label=platform.label,
        )
