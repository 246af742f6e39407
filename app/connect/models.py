"""The tables of connecting accounts: flows under way, and what is known of each
connected channel's tokens (kept beside the encrypted credentials so the token keeper
can find the ones about to end without decrypting every channel)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdColumn, UTCDateTime


class ConnectState(Base):
    """One authorization flow under way: created when an admin clicks Connect (or
    Reconnect), used once by the platform's callback, then (for a chooser) once more
    by the admin's pick. Only the SHA-256 of the `state` value is kept, so a database
    reader cannot finish someone else's flow."""

    __tablename__ = "connect_states"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(state), hex
    platform: Mapped[str] = mapped_column(String(20))
    # sha256 of the admin's web session (its CSRF secret): the callback must come back
    # in the browser session that started the flow.
    session_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Set for a reconnect: the channel the answer updates in place.
    channel_id: Mapped[str | None] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    # Encrypted (the credential box): the PKCE verifier, or Flickr's request token secret.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # Encrypted: the accounts the chooser offers, with their tokens, after the callback.
    picks_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChannelToken(Base):
    """When a connected channel's tokens end, for the token keeper."""

    __tablename__ = "channel_tokens"

    channel_id: Mapped[str] = mapped_column(
        IdColumn(), ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    # The access token's end: refreshed a little before it.
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The end of the whole grant, when the platform says (a Facebook long-lived token):
    # an alert asks for a reconnect 7 days before.
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MastodonApp(Base):
    """The app Cadence registered on one Mastodon instance (`POST /api/v1/apps`): each
    instance is its own authorization server, so every instance has its own client,
    registered once and kept. The secret is sealed by the credential box."""

    __tablename__ = "mastodon_apps"

    # The instance's origin, `https://host[:port]`.
    instance: Mapped[str] = mapped_column(String(255), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    # The callback the app was registered with: a new CADENCE_BASE_URL registers anew.
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
