"""The team workflow's periodic jobs, as the scheduler runs them (app/scheduler.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.db import transaction
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.team.sweep import APPROVAL_SWEEP_SECONDS, SweepResult, sweep
from app.team.twophy import TWOPHY_INTERVAL_SECONDS, award_due

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


def run_twophy(runtime: Runtime) -> bool:
    settings = runtime.settings
    with transaction(runtime.sessions) as session:
        made = award_due(
            session,
            now=runtime.clock.now(),
            zone=settings.timezone,
            at=settings.twophy_at,
            base_url=settings.base_url,
        )
        return made is not None and made.post_id is not None


def twophy(runtime: Runtime, dispatcher: Dispatcher) -> Callable[[], Awaitable[None]]:
    """The weekly Twophy (app/team/twophy.py); its announcement goes out at once."""

    async def job() -> None:
        if await asyncio.to_thread(run_twophy, runtime):
            log.info("the Twophy is announced")
            dispatcher.wake()

    return job


def team_jobs(
    runtime: Runtime, dispatcher: Dispatcher
) -> list[tuple[str, Callable[[], Awaitable[None]], float]]:
    """The scheduler's periodic jobs of the team workflow: (id, job, every seconds)."""
    return [
        ("approval-sweep", approval_sweep(runtime, dispatcher), APPROVAL_SWEEP_SECONDS),
        ("twophy", twophy(runtime, dispatcher), TWOPHY_INTERVAL_SECONDS),
    ]
