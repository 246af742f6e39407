"""The token keeper, a periodic job of every scheduler process (see app/scheduler.py):

- refreshes access tokens that end within REFRESH_AHEAD (single flight: the refresh
  re-reads the expiry with the channel locked, so two processes refresh once);
- opens one alert per channel 7 days before a grant's known end (Facebook's long-lived
  tokens), asking for a reconnect;
- fails deliveries whose wait for a reconnect outlasted CADENCE_RECONNECT_GRACE_HOURS;
- once a day, runs the cheap credentials check of each connected channel, which marks
  a channel whose credentials the platform refuses as needing a reconnect.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.alerts.models import AlertKind
from app.alerts.service import open_alert
from app.channels.checks import check_channel
from app.channels.models import Channel, ChannelStatus
from app.connect.models import ChannelToken
from app.connect.tokens import CHECK_EVERY, END_WARNING, REFRESH_AHEAD, REFRESHED, refresh_locked
from app.connect.waiting import give_up_waiting
from app.db import transaction
from app.runtime import Runtime
from connectors.base import PublishError

log = logging.getLogger(__name__)


def _expiring(session: Session, *, now: datetime) -> list[str]:
    return list(
        session.scalars(
            select(ChannelToken.channel_id)
            .join(Channel, Channel.id == ChannelToken.channel_id)
            .where(
                ChannelToken.platform.in_(sorted(REFRESHED)),
                ChannelToken.access_expires_at <= now + REFRESH_AHEAD,
                Channel.status == ChannelStatus.active,
            )
            .limit(200)
        )
    )


def _still_expiring(now: datetime) -> Any:
    def wanted(credentials: dict[str, Any], row: ChannelToken | None) -> bool:
        ends = row.access_expires_at if row is not None else None
        # Without a refresh token (LinkedIn grants them to approved partners only) there
        # is nothing to renew: the known end's warning asks for a reconnect instead.
        renewable = bool(credentials.get("refresh_token"))
        return renewable and ends is not None and ends <= now + REFRESH_AHEAD

    return wanted


async def refresh_expiring(runtime: Runtime, http: httpx.AsyncClient) -> int:
    """Refresh the access tokens about to end; return how many were asked about."""
    now = runtime.clock.now()
    with runtime.read_sessions() as session:
        due = _expiring(session, now=now)
    for channel_id in due:
        try:
            await refresh_locked(runtime, http, channel_id, wanted=_still_expiring(now))
        except PublishError as exc:
            # AuthExpired already marked the channel; Transient: the next run tries again.
            log.warning(
                "could not renew an access token ahead of its end: %s",
                exc.message,
                extra={"channel_id": channel_id},
            )
    return len(due)


def warn_of_ends(session: Session, *, now: datetime) -> int:
    """One alert per channel whose grant ends within END_WARNING."""
    rows = list(
        session.execute(
            select(ChannelToken, Channel)
            .join(Channel, Channel.id == ChannelToken.channel_id)
            .where(
                ChannelToken.ends_at <= now + END_WARNING,
                ChannelToken.end_warned_at.is_(None),
            )
            .limit(500)
        )
    )
    for token, channel in rows:
        ends = token.ends_at
        when = f"{ends:%Y-%m-%d %H:%M} UTC" if ends is not None else "soon"
        open_alert(
            session,
            kind=AlertKind.channel_needs_reconnect,
            key=f"ending:{channel.id}",
            message=(
                f"The access of channel {channel.name} ends {when}. Reconnect it before "
                f"then at /channels/{channel.id}/reconnect"
            ),
            now=now,
            channel_id=channel.id,
        )
        token.end_warned_at = now
    return len(rows)


def _unchecked(session: Session, *, now: datetime) -> list[str]:
    found = list(
        session.scalars(
            select(ChannelToken)
            .join(Channel, Channel.id == ChannelToken.channel_id)
            .where(
                Channel.status == ChannelStatus.active,
                or_(
                    ChannelToken.checked_at.is_(None),
                    ChannelToken.checked_at <= now - CHECK_EVERY,
                ),
            )
            .limit(50)
            .with_for_update(skip_locked=True)
        )
    )
    for row in found:
        row.checked_at = now  # claimed for today, whichever process checks it
    return [row.channel_id for row in found]


async def check_connected(runtime: Runtime, http: httpx.AsyncClient) -> int:
    with transaction(runtime.sessions) as session:
        due = _unchecked(session, now=runtime.clock.now())
    for channel_id in due:
        await check_channel(runtime, channel_id=channel_id, http=http)
    return len(due)


async def keep_tokens(runtime: Runtime, http: httpx.AsyncClient) -> None:
    """The periodic job: each part on its own, so one failing does not stop the rest."""
    await refresh_expiring(runtime, http)
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        warn_of_ends(session, now=now)
    with transaction(runtime.sessions) as session:
        give_up_waiting(session, now=now)
    await check_connected(runtime, http)
