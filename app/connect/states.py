"""The `state` of an authorization flow: random, single-use, bound to the admin's web
session, expiring after 10 minutes, kept server-side (only its hash) so a replayed
callback fails. And PKCE (RFC 7636, S256), which needs nothing but `secrets` and
`hashlib`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.connect.models import ConnectState
from app.crypto import CredentialBox, CredentialsUnreadable

STATE_LIFETIME = timedelta(minutes=10)
# A finished flow's row is kept a little for the chooser, then removed.
KEEP_AFTER_EXPIRY = timedelta(hours=1)


class FlowRefused(Exception):
    """The callback or the pick cannot go on; the message is for the admin's eyes."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def code_challenge(verifier: str) -> str:
    """S256: BASE64URL(SHA256(ASCII(code_verifier))), without padding."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Started:
    state: str
    verifier: str


def begin(
    session: Session,
    *,
    platform: str,
    session_secret: str,
    user_id: str,
    channel_id: str | None,
    box: CredentialBox,
    now: datetime,
    secret: str | None = None,
) -> Started:
    """A new flow: its state (43 URL-safe characters) and PKCE verifier (86)."""
    session.execute(delete(ConnectState).where(ConnectState.expires_at < now - KEEP_AFTER_EXPIRY))
    state = secrets.token_urlsafe(32)
    verifier = secret if secret is not None else secrets.token_urlsafe(64)
    session.add(
        ConnectState(
            id=digest(state),
            platform=platform,
            session_hash=digest(session_secret),
            user_id=user_id,
            channel_id=channel_id,
            secret_encrypted=box.seal({"secret": verifier}),
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    return Started(state, verifier)


@dataclass(frozen=True)
class Taken:
    flow_id: str
    platform: str
    channel_id: str | None
    secret: str


def _mine(row: ConnectState | None, *, platform: str, session_secret: str) -> ConnectState:
    if row is None or row.platform != platform:
        raise FlowRefused(
            "This sign-in link is not valid",
            "Cadence did not start this sign-in, or it belongs to another platform. "
            "Start again from the Channels page.",
        )
    if not hmac.compare_digest(row.session_hash, digest(session_secret)):
        raise FlowRefused(
            "This sign-in was started elsewhere",
            "The answer came back to a different browser session than the one that "
            "started it. Start again from the Channels page, in this browser.",
        )
    return row


def take(
    session: Session,
    *,
    state: str,
    platform: str,
    session_secret: str,
    box: CredentialBox,
    now: datetime,
) -> Taken:
    """Use the flow `state` names, once. Raises FlowRefused."""
    row = session.scalars(
        select(ConnectState).where(ConnectState.id == digest(state)).with_for_update()
    ).one_or_none()
    row = _mine(row, platform=platform, session_secret=session_secret)
    if row.used_at is not None:
        raise FlowRefused(
            "This sign-in was already used",
            "Each sign-in answer works once. Nothing was changed; start again from the "
            "Channels page if you need to.",
        )
    if row.expires_at <= now:
        raise FlowRefused(
            "This sign-in took too long",
            "Sign-ins expire after 10 minutes. Nothing was changed; start again from the "
            "Channels page.",
        )
    row.used_at = now
    try:
        secret = str(box.open(row.secret_encrypted).get("secret", ""))
    except CredentialsUnreadable:
        raise FlowRefused("This sign-in cannot be read", "Start again.") from None
    return Taken(row.id, row.platform, row.channel_id, secret)


def store_picks(
    session: Session, *, flow_id: str, picks: list[dict[str, Any]], box: CredentialBox
) -> None:
    row = session.get(ConnectState, flow_id)
    if row is not None:
        row.picks_encrypted = box.seal({"picks": picks})


def picks_of(
    session: Session,
    *,
    flow_id: str,
    platform: str,
    session_secret: str,
    box: CredentialBox,
    now: datetime,
    finish: bool,
) -> tuple[ConnectState, list[dict[str, Any]]]:
    """The chooser's offer of a flow of this session, not yet finished, not expired."""
    row = session.scalars(
        select(ConnectState).where(ConnectState.id == flow_id).with_for_update()
    ).one_or_none()
    row = _mine(row, platform=platform, session_secret=session_secret)
    if row.picks_encrypted is None or row.finished_at is not None or row.expires_at <= now:
        raise FlowRefused(
            "This choice is no longer open",
            "It was already made, or it took more than 10 minutes. Start again from the "
            "Channels page.",
        )
    if finish:
        row.finished_at = now
    try:
        picks = box.open(row.picks_encrypted).get("picks", [])
    except CredentialsUnreadable:
        raise FlowRefused("This choice cannot be read", "Start again.") from None
    return row, [p for p in picks if isinstance(p, dict)]


def set_secret(session: Session, *, state: str, secret: str, box: CredentialBox) -> None:
    """Keep a secret learnt after the flow began (Flickr's request token and secret)."""
    row = session.get(ConnectState, digest(state))
    if row is not None:
        row.secret_encrypted = box.seal({"secret": secret})
