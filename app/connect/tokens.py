"""The token life cycle of connected channels: refresh (on a 401 and ahead of expiry),
single flight across processes, dead grants, known ends, the daily check.

Single flight: the refresh runs with the channel's row locked (PostgreSQL `SELECT ...
FOR UPDATE`; SQLite's every write transaction is `BEGIN IMMEDIATE`, see app.db), and the
rotated refresh token is stored in that same transaction. A second worker that found
the same expired token waits for the lock, then sees a different access token and
takes it instead of refreshing again (refresh-token reuse gets grants revoked at X and
others). The database transaction is held by a worker thread; the HTTP call runs on
the event loop (the thread waits for it), through the outbound policy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import AlertKind
from app.alerts.service import open_alert
from app.channels.models import Channel, ChannelStatus
from app.connect.flow import expires_at, oauth_words
from app.connect.models import ChannelToken
from app.connect.providers import PROVIDERS, rebase
from app.crypto import CredentialsUnreadable
from app.db import transaction
from app.runtime import Runtime
from connectors.base import AuthExpired, PublishError, Transient
from connectors.http import USER_AGENT, json_body, send

log = logging.getLogger(__name__)

# Refreshed this long before the access token ends.
REFRESH_AHEAD = timedelta(minutes=10)
# An alert asks for a reconnect this long before a grant's known end.
END_WARNING = timedelta(days=7)
CHECK_EVERY = timedelta(days=1)
# Platforms whose refresh Cadence runs itself (the others' connectors refresh alone).
REFRESHED = frozenset({"x", "yammer", "linkedin", "sharepoint", "youtube"})
# A refresh token that no longer works: RFC 6749's invalid_grant, a revoked app
# (unauthorized_client), and, at X only, 400 invalid_request ("Value passed for the
# token was invalid"); elsewhere invalid_request is a malformed request, not a dead grant.
DEAD_ERRORS = frozenset({"invalid_grant", "unauthorized_client"})
DEAD_ERRORS_OF = {"x": DEAD_ERRORS | {"invalid_request"}}


@dataclass(frozen=True)
class Refreshed:
    changed: dict[str, Any]
    access_expires_at: datetime | None


@dataclass(frozen=True)
class Dead:
    reason: str


async def refresh_grant(
    http: httpx.AsyncClient,
    platform: str,
    credentials: dict[str, Any],
    config: dict[str, Any],
    now: datetime,
) -> Refreshed | Dead:
    """One refresh at the platform's token endpoint (RFC 6749 section 6)."""
    provider = PROVIDERS[platform]
    client_id = str(credentials.get("client_id") or "")
    secret = str(credentials.get("client_secret") or "")
    refresh = str(credentials.get("refresh_token") or "")
    hidden = [client_id, secret, refresh, str(credentials.get("access_token") or "")]
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id}
    auth = httpx.BasicAuth(client_id, secret) if provider.basic_auth else None
    if not provider.basic_auth:
        form["client_secret"] = secret
    try:
        response = await send(
            http,
            "POST",
            config.get("token_url") or rebase(provider.token_url, config.get("api_base")),
            data=form,
            auth=auth,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            secrets=hidden,
        )
    except PublishError as exc:
        # Renewing a token publishes nothing: trying again later is safe.
        raise Transient(f"renewing the {provider.label} access token: {exc.message}") from None
    answer = json_body(response)
    if response.is_success and isinstance(answer, dict) and answer.get("access_token"):
        changed = {"access_token": str(answer["access_token"])}
        if isinstance(answer.get("refresh_token"), str) and answer["refresh_token"]:
            changed["refresh_token"] = answer["refresh_token"]
        return Refreshed(changed, expires_at(answer, now))
    words = oauth_words(answer, hidden) or f"HTTP {response.status_code}"
    error = answer.get("error") if isinstance(answer, dict) else None
    if response.status_code in (400, 401) and error in DEAD_ERRORS_OF.get(platform, DEAD_ERRORS):
        return Dead(f"{provider.label} refused to renew the access token ({words})")
    raise Transient(f"{provider.label}'s token endpoint answered {words}")


def mark_needs_reconnect(session: Session, channel: Channel, *, reason: str, now: datetime) -> None:
    """The channel needs a person: one alert for the channel, linking to the reconnect."""
    if channel.status == ChannelStatus.active:
        channel.status = ChannelStatus.needs_reconnect
        channel.status_reason = reason
        channel.updated_at = now
    open_alert(
        session,
        kind=AlertKind.channel_needs_reconnect,
        key=channel.id,
        message=(
            f"Channel {channel.name} needs reconnecting: {reason}. "
            f"Reconnect it at /channels/{channel.id}/reconnect"
        ),
        now=now,
        channel_id=channel.id,
    )


def _locked(session: Session, channel_id: str) -> tuple[Channel, list[Channel]]:
    """The channel and the other channels of its platform, all locked, in id order
    (one order for every process, so two refreshes cannot deadlock). Channels made from
    one sign-in (several communities, Pages) share its refresh token: a rotation must
    reach them all in the same transaction."""
    platform = select(Channel.platform).where(Channel.id == channel_id).scalar_subquery()
    rows = list(
        session.scalars(
            select(Channel)
            .where(Channel.platform == platform)
            .order_by(Channel.id)
            .with_for_update()
        )
    )
    found = [c for c in rows if c.id == channel_id]
    if not found:
        raise AuthExpired("the channel was deleted")
    return found[0], [c for c in rows if c.id != channel_id]


def _share(
    session: Session,
    runtime: Runtime,
    siblings: list[Channel],
    old_refresh: Any,
    result: Refreshed,
    now: datetime,
) -> None:
    """Give the renewed tokens to the other channels of the same grant."""
    if not old_refresh or "refresh_token" not in result.changed:
        return
    for sibling in siblings:
        try:
            theirs = runtime.box.open(sibling.credentials_encrypted)
        except CredentialsUnreadable:
            continue
        if theirs.get("refresh_token") == old_refresh:
            _store(session, sibling, runtime, {**theirs, **result.changed}, result, now)


def _store(
    session: Session,
    channel: Channel,
    runtime: Runtime,
    credentials: dict[str, Any],
    result: Refreshed,
    now: datetime,
) -> None:
    channel.credentials_encrypted = runtime.box.seal(credentials)
    channel.updated_at = now
    row = session.get(ChannelToken, channel.id)
    if row is None:
        row = ChannelToken(channel_id=channel.id, platform=channel.platform)
        session.add(row)
    row.access_expires_at = result.access_expires_at
    row.refreshed_at = now


async def refresh_locked(
    runtime: Runtime,
    http: httpx.AsyncClient,
    channel_id: str,
    *,
    wanted: Callable[[dict[str, Any], ChannelToken | None], bool],
) -> dict[str, Any]:
    """The channel's credentials after at most one refresh across all processes.

    `wanted(credentials, token_row)`, asked with the row locked, says whether a refresh
    is still needed (another process may have done it meanwhile). Raises AuthExpired
    (the channel now needs reconnecting) or Transient.
    """
    loop = asyncio.get_running_loop()
    limit = runtime.settings.publish_timeout_seconds * 2 + 5

    def work() -> tuple[dict[str, Any], str | None]:
        with transaction(runtime.sessions) as session:
            channel, siblings = _locked(session, channel_id)
            credentials = runtime.box.open(channel.credentials_encrypted)
            if not wanted(credentials, session.get(ChannelToken, channel_id)):
                return credentials, None
            now = runtime.clock.now()
            call = refresh_grant(http, channel.platform, credentials, channel.config, now)
            result = asyncio.run_coroutine_threadsafe(call, loop).result(timeout=limit)
            if isinstance(result, Dead):
                mark_needs_reconnect(session, channel, reason=result.reason, now=now)
                return credentials, result.reason
            _share(session, runtime, siblings, credentials.get("refresh_token"), result, now)
            credentials = {**credentials, **result.changed}
            _store(session, channel, runtime, credentials, result, now)
            log.info("access token renewed", extra={"channel_id": channel_id})
            return credentials, None

    credentials, dead = await asyncio.to_thread(work)
    if dead is not None:
        raise AuthExpired(f"{dead}; reconnect the channel")
    return credentials


def refresher(runtime: Runtime, http: httpx.AsyncClient, channel_id: str) -> Any:
    """The hook a connector calls when the platform refused its access token (a 401
    from a call that created nothing): refresh once, unless someone already did."""

    async def refresh(stale_access_token: str) -> dict[str, Any]:
        return await refresh_locked(
            runtime,
            http,
            channel_id,
            # No access token yet ("") is stale too (YouTube channels may start without).
            wanted=lambda creds, _row: (creds.get("access_token") or "") == stale_access_token,
        )

    return refresh
