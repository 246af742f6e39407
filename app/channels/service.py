from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

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
from connectors.base import destination_fields
from connectors.outbound import OutboundPolicy
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


def _host_of(value: Any, *, destination: bool) -> str | None:
    """The host a setting points at: a URL's host, or a destination field's own value."""
    if not isinstance(value, str):
        return None
    if "://" in value:
        try:
            return urlsplit(value).hostname
        except ValueError:
            return None
    return value if destination else None


def _refused_addresses(
    platform: Platform, given: dict[str, dict[str, Any]], outbound: OutboundPolicy
) -> list[FieldProblem]:
    """Settings that name a refused address outright (an IP literal in any spelling, or
    localhost). Names that resolve to one are refused when connecting, every time."""
    problems = []
    models = {"config": platform.config_model, "credentials": platform.credentials_model}
    for group, values in given.items():
        destinations = destination_fields(models[group])
        for name, value in values.items():
            host = _host_of(value, destination=name in destinations)
            reason = outbound.refused_literal(host) if host else None
            if reason:
                problems.append(FieldProblem(("body", group, name), reason))
    return problems


def _open_credentials(box: CredentialBox, channel: Channel) -> dict[str, Any] | None:
    """The stored credentials, or None when no known key decrypts them."""
    try:
        return box.open(channel.credentials_encrypted)
    except CredentialsUnreadable:
        return None


def _moved_destinations(
    platform: Platform, stored: dict[str, Any], new: dict[str, Any]
) -> list[str]:
    """Destination fields whose value the change alters (stored values read leniently)."""
    try:
        before = platform.config_model.from_stored(stored).model_dump(exclude_none=True)
    except ValidationError:
        before = stored
    return sorted(
        f"config.{name}"
        for name in destination_fields(platform.config_model)
        if before.get(name) != new.get(name)
    )


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


def create(
    session: Session,
    *,
    data: ChannelCreate,
    box: CredentialBox,
    now: datetime,
    outbound: OutboundPolicy | None = None,
) -> Channel:
    """`outbound`: the addresses settings may name (without one, public ones only)."""
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
    problems += _refused_addresses(
        platform, {"config": config, "credentials": credentials}, outbound or OutboundPolicy()
    )
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
        # Unless told: external channels need approval, internal ones do not (issue 12).
        requires_approval=(
            audience == "external" if data.requires_approval is None else data.requires_approval
        ),
        status=data.status,
        created_at=now,
        updated_at=now,
    )
    session.add(channel)
    session.flush()
    return channel


def update(
    session: Session,
    *,
    channel_id: str,
    data: ChannelUpdate,
    box: CredentialBox,
    now: datetime,
    outbound: OutboundPolicy | None = None,
) -> Channel:
    """Apply a partial change. Changing where the credentials go (a destination field)
    needs the credentials in the same request: they replace the stored ones whole, so
    no stored secret follows the channel to a new server."""
    channel = get(session, channel_id)
    platform = get_platform(channel.platform)
    changes = patch_fields(data)
    given: dict[str, dict[str, Any]] = {
        group: dict(changes[group])  # type: ignore[call-overload]
        for group in ("config", "credentials")
        if changes.get(group) is not None
    }
    stored_credentials = _open_credentials(box, channel)
    moved: list[str] = []
    if "config" in given:
        known = {k: v for k, v in channel.config.items() if k in platform.config_model.model_fields}
        new_config = _checked(platform.config_model, {**known, **given["config"]}, "config")
        moved = _moved_destinations(platform, channel.config, new_config)
        if moved and "credentials" not in given and stored_credentials != {}:
            raise invalid(
                "credentials",
                f"changing {', '.join(moved)} changes where the credentials are sent: "
                "enter the credentials again in the same request",
            )
        channel.config = new_config
    problems = _refused_addresses(platform, given, outbound or OutboundPolicy())
    if problems:
        raise InvalidInput(problems)
    if "credentials" in given:
        # Kept fields merge in, unless the destination moved or the stored ones are lost.
        kept = stored_credentials if stored_credentials is not None and not moved else {}
        channel.credentials_encrypted = box.seal(
            _checked(platform.credentials_model, {**kept, **given["credentials"]}, "credentials")
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
    if "requires_approval" in changes:
        channel.requires_approval = bool(changes["requires_approval"])
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
    status: str = ChannelStatus.active


def connection(session: Session, *, channel_id: str) -> Connection:
    channel = get(session, channel_id)
    return Connection(
        channel_id=channel.id,
        name=channel.name,
        platform=channel.platform,
        config=dict(channel.config),
        credentials_encrypted=channel.credentials_encrypted,
        status=channel.status,
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


def masked_url(value: str) -> str:
    """A URL cut to its scheme and host: webhook URLs often carry their token."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        host = None
    return f"{parts.scheme}://{host}/…" if host else "…"


def shown_config(config: dict[str, Any], *, reveal: bool) -> dict[str, Any]:
    """The config as a reader may see it: URLs masked unless `reveal` (admins)."""
    if reveal:
        return dict(config)
    return {k: masked_url(v) if isinstance(v, str) and "://" in v else v for k, v in config.items()}


def to_out(
    channel: Channel, box: CredentialBox, *, reveal: bool = False, listed: bool = False
) -> ChannelOut:
    """The channel as the API shows it. `reveal`: URL settings whole (to admins); others
    see scheme and host only. Unreadable credentials: 409, or, in a list (where one
    broken channel must not hide the others), no credential fields."""
    stored = _open_credentials(box, channel)
    if stored is None and not listed:
        raise Conflict(UNREADABLE, field="credentials")
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        platform=channel.platform,
        audience=channel.audience,
        config=shown_config(channel.config, reveal=reveal),
        credential_fields=sorted(stored or {}),
        receives_alerts=channel.receives_alerts,
        requires_approval=channel.requires_approval,
        status=channel.status,
        status_reason=channel.status_reason,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )
