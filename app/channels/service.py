from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from app.alerts.models import AlertKind
from app.alerts.service import open_alert, resolve_alert
from app.channels.models import Channel, ChannelStatus
from app.channels.schemas import ChannelCreate, ChannelOut, ChannelUpdate
from app.crypto import CredentialBox, CredentialsUnreadable
from app.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
    invalid,
    problems_from_pydantic,
)
from app.posts.models import Delivery
from app.schemas import patch_fields
from connectors.registry import Platform, get_platform

UNREADABLE = (
    "the stored credentials cannot be decrypted with the known keys (was the secret key "
    "lost or replaced?): re-enter the credentials"
)


def open_credentials(channel: Channel, box: CredentialBox) -> dict[str, Any]:
    """The channel's credentials; Conflict (409) when no known key decrypts them."""
    try:
        return box.open(channel.credentials_encrypted)
    except CredentialsUnreadable:
        raise Conflict(UNREADABLE, field="credentials") from None


def get(session: Session, channel_id: str) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("channel", channel_id)
    return channel


def _checked(model: type[BaseModel], values: dict[str, Any], field: str) -> dict[str, Any]:
    try:
        return model.model_validate(values).model_dump(exclude_none=True)
    except ValidationError as exc:
        raise InvalidInput(problems_from_pydantic(exc, ("body", field))) from None


def _audience(platform: Platform, requested: str | None) -> str:
    if platform.audience is None:
        if requested is None:
            raise invalid(
                "audience", f"choose 'external' or 'internal' for a {platform.name} channel"
            )
        return requested
    if requested is not None and requested != platform.audience:
        raise invalid("audience", f"{platform.label} channels are always {platform.audience}")
    return platform.audience


def _check_alerts_flag(receives_alerts: bool, audience: str) -> None:
    if receives_alerts and audience != "internal":
        raise invalid("receives_alerts", "only internal channels can receive alerts")


def create(session: Session, *, data: ChannelCreate, box: CredentialBox, now: datetime) -> Channel:
    platform = get_platform(data.platform)
    problems: list[FieldProblem] = []
    config: dict[str, Any] = {}
    credentials: dict[str, Any] = {}
    for model, values, field in (
        (platform.config_model, data.config, "config"),
        (platform.credentials_model, data.credentials, "credentials"),
    ):
        try:
            checked = _checked(model, values, field)
        except InvalidInput as exc:
            problems += exc.problems
            continue
        (config if field == "config" else credentials).update(checked)
    if problems:
        raise InvalidInput(problems)
    audience = _audience(platform, data.audience)
    _check_alerts_flag(data.receives_alerts, audience)
    channel = Channel(
        name=data.name,
        platform=platform.name,
        audience=audience,
        config=config,
        credentials_encrypted=box.seal(credentials),
        receives_alerts=data.receives_alerts,
        status=data.status,
        created_at=now,
        updated_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def update(
    session: Session, *, channel_id: str, data: ChannelUpdate, box: CredentialBox, now: datetime
) -> Channel:
    channel = get(session, channel_id)
    platform = get_platform(channel.platform)
    changes = patch_fields(data)
    if "config" in changes:
        channel.config = _checked(
            platform.config_model,
            {**channel.config, **changes["config"]},
            "config",  # type: ignore[dict-item]
        )
    if "credentials" in changes:
        try:
            stored = box.open(channel.credentials_encrypted)
        except CredentialsUnreadable:
            # Repair: the new credentials replace what no key can read (and must be whole).
            stored = {}
        merged = {**stored, **changes["credentials"]}  # type: ignore[dict-item]
        channel.credentials_encrypted = box.seal(
            _checked(platform.credentials_model, merged, "credentials")
        )
        # New credentials are what reconnecting means.
        if channel.status == ChannelStatus.needs_reconnect:
            channel.status = ChannelStatus.active
            channel.status_reason = None
        resolve_alert(session, kind=AlertKind.channel_needs_reconnect, key=channel.id, now=now)
    if "audience" in changes:
        channel.audience = _audience(platform, str(changes["audience"]))
    if "name" in changes:
        channel.name = str(changes["name"])
    if "receives_alerts" in changes:
        channel.receives_alerts = bool(changes["receives_alerts"])
    if "status" in changes:
        if (
            changes["status"] == ChannelStatus.active
            and channel.status == ChannelStatus.needs_reconnect
        ):
            # Only new credentials reconnect a channel (handled above).
            raise Conflict(
                "the channel needs reconnecting: send new credentials to make it active",
                field="status",
            )
        channel.status = str(changes["status"])
        channel.status_reason = None
    _check_alerts_flag(channel.receives_alerts, channel.audience)
    channel.updated_at = now
    session.flush()
    return channel


def save_channel_credentials(
    session: Session, *, channel_id: str, changed: dict[str, Any], box: CredentialBox, now: datetime
) -> None:
    """Merge credentials a connector renewed (e.g. a refreshed access token) into the stored ones."""
    channel = session.scalars(
        select(Channel).where(Channel.id == channel_id).with_for_update()
    ).one()
    channel.credentials_encrypted = box.seal({**open_credentials(channel, box), **changed})
    channel.updated_at = now


@dataclass(frozen=True)
class Connection:
    """What building a channel's connector needs, read in a short transaction."""

    channel_id: str
    name: str
    platform: str
    config: dict[str, Any]
    credentials_encrypted: str


def connection(session: Session, *, channel_id: str) -> Connection:
    channel = get(session, channel_id)
    return Connection(
        channel_id=channel.id,
        name=channel.name,
        platform=channel.platform,
        config=dict(channel.config),
        credentials_encrypted=channel.credentials_encrypted,
    )


def record_check(
    session: Session, *, channel_id: str, credentials_refused: str | None, now: datetime
) -> str:
    """Write what a credentials check found; return the channel's status.

    `credentials_refused` (the platform's words) marks an active channel
    `needs_reconnect` and opens a `channel_needs_reconnect` alert, as a publish that
    raised AuthExpired does. A check that passed changes nothing: a channel that
    needs reconnecting is reconnected by new credentials (see `update`), and a
    disabled one stays disabled.
    """
    channel = session.scalars(
        select(Channel).where(Channel.id == channel_id).with_for_update()
    ).one_or_none()
    if channel is None:  # deleted while the platform was being asked
        raise NotFound("channel", channel_id)
    if credentials_refused is not None:
        if channel.status == ChannelStatus.active:
            channel.status = ChannelStatus.needs_reconnect
            channel.status_reason = credentials_refused
            channel.updated_at = now
        if channel.status == ChannelStatus.needs_reconnect:
            open_alert(
                session,
                kind=AlertKind.channel_needs_reconnect,
                key=channel.id,
                message=f"Channel {channel.name} needs reconnecting: {credentials_refused}",
                now=now,
                channel_id=channel.id,
            )
    return channel.status


def delete(session: Session, *, channel_id: str, now: datetime) -> Channel | None:
    """Delete, or disable when deliveries reference it, so their history stays whole."""
    channel = get(session, channel_id)
    if session.scalar(select(exists().where(Delivery.channel_id == channel.id))):
        channel.status = ChannelStatus.disabled
        channel.updated_at = now
        return channel
    session.delete(channel)
    return None


def list_(
    session: Session, *, platform: str | None, status: str | None, limit: int, offset: int
) -> tuple[Sequence[Channel], int]:
    query = select(Channel)
    if platform is not None:
        query = query.where(Channel.platform == platform)
    if status is not None:
        query = query.where(Channel.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Channel.name, Channel.id).limit(limit).offset(offset)
    ).all()
    return items, total


def to_out(channel: Channel, box: CredentialBox, *, listed: bool = False) -> ChannelOut:
    """The channel as the API shows it. Unreadable credentials: 409, or, in a list
    (where one broken channel must not hide the others), no credential fields."""
    try:
        fields = sorted(box.open(channel.credentials_encrypted))
    except CredentialsUnreadable:
        if not listed:
            raise Conflict(UNREADABLE, field="credentials") from None
        fields = []
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        platform=channel.platform,
        audience=channel.audience,
        config=channel.config,
        credential_fields=fields,
        receives_alerts=channel.receives_alerts,
        status=channel.status,
        status_reason=channel.status_reason,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )
