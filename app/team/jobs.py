"""The team workflow's periodic jobs, as the scheduler runs them (app/scheduler.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.db import transaction
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.team.sweep import SweepResult, sweep

log = logging.getLogger(__name__)


def run_sweep(runtime: Runtime) -> SweepResult:
    with transaction(runtime.sessions) as session:
        return sweep(
            session,
            now=runtime.clock.now(),
            warn_minutes=runtime.settings.approval_warn_minutes,
        )


def approval_sweep(runtime: Runtime, dispatcher: Dispatcher) -> Callable[[], Awaitable[None]]:
    """The sweep (app/team/sweep.py) in a worker thread; alerts it opened go out soon."""

    async def job() -> None:
        result = await asyncio.to_thread(run_sweep, runtime)
        if result.missed or result.overdue or result.requested:
            log.info(
                "approval sweep",
                extra={
                    "missed": result.missed,
                    "overdue": result.overdue,
                    "requested": result.requested,
                },
            )
            await dispatcher.announce_alerts()

    return job
