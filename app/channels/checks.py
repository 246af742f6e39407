"""POST /channels/{id}/test: ask the platform whether the channel's credentials work.

The channel is read in one short transaction, the platform is asked with no
transaction open (a slow platform must not hold a database connection, nor SQLite's
write lock), and what was found is written in a second short transaction.

The answer is for a comms person and says nothing a server said: connectors answer
checks in Cadence's words (connectors/check_answers.py), connections follow the
outbound policy, and what can't even be tried (settings that no longer fit,
credentials that can't be decrypted) is an `ok: false` answer, never an error.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

from app.channels import service
from app.channels.schemas import ChannelTestResult
from app.channels.text_limits import reported_limit, store_text_limit
from app.connect.tokens import refresher
from app.db import transaction
from app.publishing.calls import (
    CallFailure,
    NotSent,
    bounded_call,
    build_connector,
    call_guard_seconds,
    read_settings,
)
from app.runtime import Runtime
from connectors.base import CheckResult, OutcomeKind
from connectors.check_answers import check_failed
from connectors.checks import credentials_refused
from connectors.registry import get_platform
from connectors.transport import make_client

log = logging.getLogger(__name__)


def _in_transaction(runtime: Runtime, fn: Any, /, **kwargs: Any) -> Any:
    with transaction(runtime.sessions) as session:
        return fn(session, **kwargs)


async def _db(runtime: Runtime, fn: Any, /, **kwargs: Any) -> Any:
    return await run_in_threadpool(_in_transaction, runtime, fn, **kwargs)


async def check_channel(
    runtime: Runtime, *, channel_id: str, http: httpx.AsyncClient | None = None
) -> ChannelTestResult:
    """Run the connector's `check()` and record a refusal of the credentials.

    Raises NotFound for an unknown channel. Never raises for what the platform answers: every failure is an
    `ok: false` result whose detail is the connector's secret-free message.
    """
    connection: service.Connection = await _db(runtime, service.connection, channel_id=channel_id)
    platform = get_platform(connection.platform)
    try:
        channel_settings = read_settings(
            platform,
            config=connection.config,
            credentials_encrypted=connection.credentials_encrypted,
            box=runtime.box,
        )
    except NotSent as exc:
        # Settings that no longer fit, credentials no key reads: the platform is not asked.
        return _untried(connection, exc.message)
    settings = runtime.settings
    clock = runtime.clock
    outbound = settings.outbound_policy()
    client = http or make_client(
        timeout=settings.publish_timeout_seconds, max_connections=2, outbound=outbound
    )
    try:
        connector = build_connector(
            platform,
            channel_settings,
            http=client,
            now=clock.now,
            save_credentials=partial(_save_credentials, runtime, channel_id),
            outbound=outbound,
            refresh_credentials=refresher(runtime, client, channel_id),
        )
        answer = await bounded_call(
            connector.check(),
            guard=call_guard_seconds(settings.publish_timeout_seconds),
            label=platform.label,
        )
    finally:
        if http is None:
            await client.aclose()
    refused: str | None = None
    if isinstance(answer, CallFailure):
        # Connectors answer checks rather than raise; this one did anyway. Its message
        # may quote the server, so only the kind of failure is told.
        result = _failure_answer(answer, platform.label)
        if answer.kind == OutcomeKind.auth_expired:
            refused = result.detail
    else:
        result = answer
        if credentials_refused(result):
            refused = result.detail
    limit = reported_limit(platform, result.account) if result.ok else None
    if limit is not None and connection.config.get("max_characters") != limit:
        await _db(runtime, store_text_limit, channel_id=channel_id, limit=limit, now=clock.now())
    status: str = await _db(
        runtime,
        service.record_check,
        channel_id=channel_id,
        credentials_refused=refused,
        now=clock.now(),
    )
    log.info(
        "channel checked",
        extra={"channel_id": channel_id, "platform": platform.name, "ok": result.ok},
    )
    return ChannelTestResult(ok=result.ok, detail=result.detail, status=status)


def _failure_answer(failure: CallFailure, label: str) -> CheckResult:
    if failure.error is not None:
        return check_failed(failure.error, label=label, host=label)
    # The guard's timeout or a connector bug: say which without any detail.
    return CheckResult(ok=False, detail=failure.message)


def _untried(connection: service.Connection, detail: str) -> ChannelTestResult:
    """The answer when the platform could not even be asked; nothing changes."""
    return ChannelTestResult(ok=False, detail=detail, status=connection.status)


async def _save_credentials(runtime: Runtime, channel_id: str, changed: dict[str, Any]) -> None:
    await _db(
        runtime,
        service.save_channel_credentials,
        channel_id=channel_id,
        changed=changed,
        box=runtime.box,
        now=runtime.clock.now(),
    )
