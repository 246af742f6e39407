"""The dispatcher: claim due deliveries, publish them concurrently, record the outcomes.

Runs in an asyncio loop (the `cadence serve` process or a `cadence worker`).
Database work is synchronous SQLAlchemy run in threads; platform calls are async.
Outcomes are written by one writer task in small batches: each batch is one short
transaction, so thousands of deliveries a second do not mean thousands of commits.
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
from functools import partial
from typing import Any, TypeVar

import httpx

from app.db import transaction
from app.metrics import CLAIMS, LAG_SECONDS, OUTCOMES, PUBLISH_SECONDS
from app.publishing.claims import Job, claim_due, next_due_at, renew_leases
from app.publishing.outcomes import PUBLISHED, Outcome, record_outcomes
from app.publishing.recovery import recover_expired_leases
from app.publishing.retry import backoff
from app.runtime import Runtime
from connectors.base import Ambiguous, Permanent, PublishError, RateLimited
from connectors.registry import get_platform
from connectors.transport import make_client

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_OUTCOME_BATCH = 200


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
    ) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.owner = owner or worker_name()
        self._own_http = http is None
        self.http = http or make_client(
            timeout=self.settings.publish_timeout_seconds,
            max_connections=self.settings.publish_concurrency,
        )
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active: set[str] = set()  # claimed, outcome not yet recorded
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._stopping = False

    # -- control -------------------------------------------------------------

    def wake(self) -> None:
        """Ask for a claim now. Safe to call from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        """Claim and publish until stop() is called."""
        self._loop = asyncio.get_running_loop()
        self._writer = asyncio.create_task(self._write_outcomes())
        while not self._stopping:
            self._wake.clear()
            try:
                claimed, asked = await self._claim_once()
            except Exception:
                log.exception("claim failed; trying again after the interval")
                claimed, asked = 0, 1
            if self._stopping:
                break
            if claimed and claimed == asked:
                continue  # there may be more due right now
            await self._sleep_until_next()
        log.info("dispatcher stopped claiming", extra={"worker": self.owner})

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
        await self._outcomes.join()
        if self._writer is not None:
            self._writer.cancel()
        if self._own_http:
            await self.http.aclose()

    async def drain(self) -> None:
        """Publish everything due now and record it, then return (tests, `cadence publish-due`)."""
        self._loop = asyncio.get_running_loop()
        writer = asyncio.create_task(self._write_outcomes())
        try:
            while True:
                claimed, _ = await self._claim_once()
                if self._tasks:
                    await asyncio.wait(set(self._tasks))
                await self._outcomes.join()
                if not claimed:
                    break
        finally:
            writer.cancel()

    # -- periodic work (called by the scheduler) -----------------------------

    async def renew_leases(self) -> None:
        if self._active:
            await self._db(
                renew_leases,
                owner=self.owner,
                now=self.runtime.clock.now(),
                lease=self.settings.lease,
            )

    async def recover(self) -> None:
        recovered = await self._db(recover_expired_leases, now=self.runtime.clock.now())
        for delivery_id in recovered:
            log.warning("lease expired: outcome unknown", extra={"delivery_id": delivery_id})

    # -- internals -----------------------------------------------------------

    async def _db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        def work() -> T:
            with transaction(self.runtime.sessions) as session:
                return fn(session, **kwargs)

        return await asyncio.to_thread(work)

    async def _claim_once(self) -> tuple[int, int]:
        free = self.settings.publish_concurrency - len(self._active)
        asked = min(free, self.settings.dispatch_batch_size)
        if asked <= 0:
            return 0, 0
        jobs = await self._db(
            claim_due,
            now=self.runtime.clock.now(),
            owner=self.owner,
            lease=self.settings.lease,
            limit=asked,
            per_channel=self.settings.per_channel_concurrency,
            max_lateness=self.settings.max_lateness,
            media_dir=self.settings.media_dir,
            base_url=self.settings.base_url,
        )
        if jobs:
            CLAIMS.labels(self.owner).inc(len(jobs))
        for job in jobs:
            self._active.add(job.delivery_id)
            task = asyncio.create_task(self._publish(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(jobs), asked

    async def _sleep_until_next(self) -> None:
        timeout = self.settings.dispatch_interval_seconds
        if len(self._active) < self.settings.publish_concurrency:
            try:
                due = await self._db(next_due_at)
            except Exception:
                log.exception("could not read the next due time")
                due = None
            if due is not None:
                until = (due - self.runtime.clock.now()).total_seconds()
                # Due already but not claimable (its channel is busy): the writer wakes us.
                if until > 0:
                    timeout = min(timeout, until)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _publish(self, job: Job) -> None:
        clock = self.runtime.clock
        started = clock.now()
        LAG_SECONDS.observe(max(0.0, (started - job.due_at).total_seconds()))
        logger = logging.LoggerAdapter(
            log, {"delivery_id": job.delivery_id, "platform": job.platform}
        )
        platform = get_platform(job.platform)
        outcome: dict[str, Any] = {}
        try:
            if platform.connector is None:
                raise Permanent(f"publishing to {platform.label} is not available in this version")
            connector = platform.connector(
                platform.config_model.model_validate(job.channel_config),
                platform.credentials_model.model_validate(
                    self.runtime.box.open(job.credentials_encrypted)
                ),
                self.http,
            )
            # The HTTP client has its own timeouts; this bounds a connector that hangs anyway.
            guard = self.settings.publish_timeout_seconds * 2 + 5
            result = await asyncio.wait_for(connector.publish(job.request), timeout=guard)
            outcome = {
                "kind": PUBLISHED,
                "external_id": result.external_id,
                "permalink": result.permalink,
            }
        except RateLimited as exc:
            outcome = {"kind": exc.kind, "message": exc.message, "retry_at": exc.retry_at}
        except PublishError as exc:
            outcome = {"kind": exc.kind, "message": exc.message}
        except TimeoutError:
            outcome = {
                "kind": Ambiguous.kind,
                "message": "the platform call did not finish in time",
            }
        except asyncio.CancelledError:
            outcome = {"kind": Ambiguous.kind, "message": "the worker shut down during the call"}
        except Exception as exc:
            # A connector bug after the request may have gone out: unknown, not failed,
            # so nobody retries blindly. The traceback goes to the log, not the alert.
            logger.exception("connector raised an unexpected error")
            outcome = {
                "kind": Ambiguous.kind,
                "message": f"unexpected {type(exc).__name__} in the {platform.label} connector",
            }
        finished = clock.now()
        PUBLISH_SECONDS.labels(job.platform).observe((finished - started).total_seconds())
        OUTCOMES.labels(job.platform, outcome["kind"]).inc()
        logger.info("publish %s", outcome["kind"], extra={"outcome": outcome["kind"]})
        self._outcomes.put_nowait(
            Outcome(
                delivery_id=job.delivery_id, started_at=started, finished_at=finished, **outcome
            )
        )

    async def _write_outcomes(self) -> None:
        settings = self.settings
        while True:
            batch = [await self._outcomes.get()]
            while len(batch) < MAX_OUTCOME_BATCH:
                try:
                    batch.append(self._outcomes.get_nowait())
                except asyncio.QueueEmpty:
                    break
            delay = 0.05
            while True:
                try:
                    await self._db(
                        record_outcomes,
                        outcomes=batch,
                        worker=self.owner,
                        now=self.runtime.clock.now(),
                        max_attempts=settings.max_attempts,
                        backoff=partial(
                            backoff,
                            base=settings.retry_base_seconds,
                            cap=settings.retry_max_seconds,
                            rng=self._rng,
                        ),
                    )
                    break
                except Exception:
                    # Keep the outcomes (and the leases) until the database takes them.
                    log.exception(
                        "could not record outcomes; retrying", extra={"count": len(batch)}
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            for outcome in batch:
                self._active.discard(outcome.delivery_id)
                self._outcomes.task_done()
            self._wake.set()
