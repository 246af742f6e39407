"""POST /channels/{id}/test: ask the platform whether the channel's credentials work.

The channel is read in one short transaction, the platform is asked with no
transaction open (a slow platform must not hold a database connection, nor SQLite's
write lock), and what was found is written in a second short transaction.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

import httpx
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.channels import service
from app.channels.schemas import ChannelTestResult
from app.crypto import CredentialsUnreadable
from app.db import transaction
from app.runtime import Runtime
from connectors.base import AuthExpired, CheckResult, PublishError
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
        config = platform.config_model.model_validate(connection.config)
        credentials = platform.credentials_model.model_validate(
            runtime.box.open(connection.credentials_encrypted)
        )
    except CredentialsUnreadable:
        return ChannelTestResult(
            ok=False,
            detail=service.UNREADABLE,
            status=(await _db(runtime, service.get, channel_id=channel_id)).status,
        )
    except ValidationError as exc:
        # Stored before a schema change, say. The errors' input is not echoed (secrets).
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()) or "unknown"
        return ChannelTestResult(
            ok=False,
            detail=f"the channel's settings do not fit {platform.label} any more ({fields}): "
            "update them",
            status=(await _db(runtime, service.get, channel_id=channel_id)).status,
        )
    settings = runtime.settings
    clock = runtime.clock
    client = http or make_client(timeout=settings.publish_timeout_seconds, max_connections=2)
    refused: str | None = None
    try:
        connector = platform.connector(
            config,
            credentials,
            client,
            now=clock.now,
            save_credentials=partial(_save_credentials, runtime, channel_id),
        )
        # The client has its own timeouts; this bounds a connector that hangs anyway.
        guard = settings.publish_timeout_seconds * 2 + 5
        result = await asyncio.wait_for(connector.check(), timeout=guard)
        if credentials_refused(result):
            refused = result.detail
    except AuthExpired as exc:
        result = CheckResult(ok=False, detail=exc.message)
        refused = exc.message
    except PublishError as exc:
        result = CheckResult(ok=False, detail=exc.message)
    except TimeoutError:
        result = CheckResult(ok=False, detail=f"{platform.label} did not answer in time")
    except Exception as exc:
        # A connector bug: the traceback goes to the log, never the credentials.
        log.exception("connector check raised", extra={"platform": platform.name})
        result = CheckResult(
            ok=False, detail=f"unexpected {type(exc).__name__} in the {platform.label} connector"
        )
    finally:
        if http is None:
            await client.aclose()
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


async def _save_credentials(runtime: Runtime, channel_id: str, changed: dict[str, Any]) -> None:
    await _db(
        runtime,
        service.save_channel_credentials,
        channel_id=channel_id,
        changed=changed,
        box=runtime.box,
        now=runtime.clock.now(),
    )
