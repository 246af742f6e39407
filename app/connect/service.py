"""Turning picks into channels: one new channel per pick, or a reconnect in place (same
id, same history; a refresh token the answer lacks is kept)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.alerts.models import AlertKind
from app.alerts.service import resolve_alerts
from app.channels import service as channels
from app.channels.models import Channel, ChannelStatus
from app.channels.schemas import ChannelCreate
from app.connect.models import ChannelToken
from app.connect.providers import Pick
from app.connect.states import FlowRefused
from app.connect.waiting import resume_waiting
from app.crypto import CredentialBox
from app.errors import InvalidInput
from connectors.outbound import OutboundPolicy
from connectors.registry import get_platform


def pick_to_dict(pick: Pick) -> dict[str, Any]:
    data = asdict(pick)
    for key in ("access_expires_at", "ends_at"):
        value = data[key]
        data[key] = value.isoformat() if value is not None else None
    return data


def pick_from_dict(data: dict[str, Any]) -> Pick:
    values = dict(data)
    for key in ("access_expires_at", "ends_at"):
        raw = values.get(key)
        values[key] = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    return Pick(**values)


def record_token(session: Session, channel: Channel, pick: Pick, *, now: datetime) -> None:
    row = session.get(ChannelToken, channel.id)
    if row is None:
        row = ChannelToken(channel_id=channel.id, platform=channel.platform)
        session.add(row)
    row.access_expires_at = pick.access_expires_at
    row.ends_at = pick.ends_at
    row.end_warned_at = None
    row.refreshed_at = now


def _problem_words(exc: InvalidInput) -> str:
    return "; ".join(f"{'.'.join(map(str, p.loc[-2:]))}: {p.msg}" for p in exc.problems)


def create_channels(
    session: Session,
    *,
    platform: str,
    picks: list[Pick],
    box: CredentialBox,
    now: datetime,
    outbound: OutboundPolicy,
) -> list[Channel]:
    """One channel per pick, all or none."""
    made = []
    for pick in picks:
        try:
            data = ChannelCreate.model_validate(
                {
                    "name": pick.name,
                    "platform": platform,
                    "config": pick.config,
                    "credentials": pick.credentials,
                }
            )
            channel = channels.create(session, data=data, box=box, now=now, outbound=outbound)
        except ValidationError as exc:
            raise FlowRefused("The account cannot be used", str(exc.errors()[0]["msg"])) from None
        except InvalidInput as exc:
            raise FlowRefused("The account cannot be used", _problem_words(exc)) from None
        record_token(session, channel, pick, now=now)
        made.append(channel)
    return made


def reconnect(
    session: Session,
    *,
    channel_id: str,
    pick: Pick,
    box: CredentialBox,
    now: datetime,
    outbound: OutboundPolicy,
) -> Channel:
    """Update the channel in place with the new tokens; it becomes active again and its
    waiting deliveries go out."""
    channel = session.get(Channel, channel_id, with_for_update=True)
    if channel is None:
        raise FlowRefused("The channel is gone", "It was deleted while you were signing in.")
    platform = get_platform(channel.platform)
    # Merge: a platform that sends no new refresh token leaves the stored one in place.
    credentials = {**channels.open_credentials(channel, box), **pick.credentials}
    config = {**channel.config, **pick.config}
    try:
        credentials = platform.credentials_model.model_validate(credentials).model_dump(
            exclude_none=True
        )
        config = platform.config_model.model_validate(config).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise FlowRefused("The account cannot be used", str(exc.errors()[0]["msg"])) from None
    problems = channels._refused_addresses(
        platform, {"config": config, "credentials": credentials}, outbound
    )
    if problems:
        raise FlowRefused("The account cannot be used", _problem_words(InvalidInput(problems)))
    channel.credentials_encrypted = box.seal(credentials)
    channel.config = config
    if channel.status == ChannelStatus.needs_reconnect:
        channel.status = ChannelStatus.active
        channel.status_reason = None
    channel.updated_at = now
    record_token(session, channel, pick, now=now)
    resolve_alerts(
        session,
        keys=[
            (AlertKind.channel_needs_reconnect, channel.id),
            (AlertKind.channel_needs_reconnect, f"ending:{channel.id}"),
        ],
        now=now,
    )
    resume_waiting(session, channel_id=channel.id, now=now)
    return channel
