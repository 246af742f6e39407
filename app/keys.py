"""The secret keys a process starts with, and the checks that they fit the stored data.

A lost or replaced key file must not pass silently: a new key would leave every
channel's credentials unreadable. So a key is generated only while no channel holds
encrypted credentials, and `cadence serve` and `cadence worker` refuse to start when
stored credentials do not decrypt with the known keys.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, inspect, select

from app.config import Settings, write_key_file

if TYPE_CHECKING:
    from app.runtime import Runtime

MIN_SECRET_KEY_BYTES = 32
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class KeyProblem(Exception):
    """The keys cannot be used as configured; the message says what to do."""


def check_secret_key(settings: Settings) -> None:
    """A configured CADENCE_SECRET_KEY must carry enough randomness to sign and encrypt."""
    if settings.secret_key is not None:
        size = len(settings.secret_key.encode())
        if size < MIN_SECRET_KEY_BYTES:
            raise KeyProblem(
                f"CADENCE_SECRET_KEY is {size} bytes long; it must be at least "
                f"{MIN_SECRET_KEY_BYTES}. Generate one with: {GENERATE_HINT}"
            )


def _channel_count(engine: Engine) -> int:
    from app.channels.models import Channel

    if not inspect(engine).has_table(Channel.__tablename__):
        return 0  # a database not migrated yet holds no credentials
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Channel)) or 0


def load_keys(settings: Settings, engine: Engine) -> list[str]:
    """The configured keys; a new key file only while no channel needs an old key."""
    keys = settings.secret_keys()
    if keys:
        return keys
    stored = _channel_count(engine)
    if stored:
        raise KeyProblem(
            f"the key file {settings.key_file} is missing, and {stored} channel(s) hold "
            "credentials encrypted with a key. Restore the key file (or set "
            "CADENCE_SECRET_KEY to that key, and older keys in CADENCE_RETIRED_SECRET_KEYS). "
            "No new key was made: it could not read those credentials."
        )
    key = secrets.token_urlsafe(32)
    write_key_file(settings.key_file, key)
    return [key]


def unreadable_channels(runtime: Runtime) -> list[str]:
    """Names of the channels whose credentials the runtime's keys cannot decrypt."""
    from app.channels.models import Channel
    from app.crypto import CredentialsUnreadable

    unreadable = []
    with runtime.sessions() as session:
        for name, sealed in session.execute(
            select(Channel.name, Channel.credentials_encrypted).order_by(Channel.name)
        ):
            try:
                runtime.box.open(sealed)
            except CredentialsUnreadable:
                unreadable.append(name)
    return unreadable


def check_credentials_readable(runtime: Runtime) -> None:
    """Refuse to go on when stored credentials do not decrypt: the key is wrong or lost."""
    names = unreadable_channels(runtime)
    if names:
        settings = runtime.settings
        source = (
            "CADENCE_SECRET_KEY" if settings.secret_key else f"the key file {settings.key_file}"
        )
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise KeyProblem(
            f"the credentials of {len(names)} channel(s) ({shown}) cannot be decrypted with "
            f"the key from {source}: was it lost or replaced? Restore the old key, or give it "
            "in CADENCE_RETIRED_SECRET_KEYS (comma-separated) so it is still accepted for "
            "reading. If the old key is gone for good, start with "
            "--accept-unreadable-credentials and re-enter each channel's credentials."
        )
