"""Web sessions and CSRF tokens.

Session: a signed cookie (itsdangerous, keyed with a key derived from the runtime's
secret key by HMAC-SHA256, so it differs from the key that encrypts credentials)
holding the user id, the session's CSRF token, the user's session version, when
the session started and when it was last used.

A session ends when
- the user's `session_version` moves on: logging out, a new password and
  deactivation bump it, so a copied cookie stops working too;
- it has not been used for CADENCE_SESSION_IDLE_MINUTES (the last-use time is
  refreshed at most once a minute, so most requests do not rewrite the cookie);
- it is older than SESSION_MAX_AGE, however busy.

CSRF: every POST to the web pages must carry the session's token, in the form field
`csrf_token` or (for the small JSON calls the pages' script makes) the header
`X-CSRF-Token`; otherwise 403. Visitors who are not logged in get a session too, so
the login form is protected the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.clock import Clock
from app.users.models import User

COOKIE = "cadence_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE = timedelta(days=7)
# How stale the cookie's last-use time may get before a request rewrites it.
SEEN_PRECISION = timedelta(minutes=1)


def derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"cadence-web:{purpose}".encode(), hashlib.sha256).digest()


@dataclass
class WebSession:
    user_id: str | None
    csrf: str
    version: int | None = None
    # When the session was logged in and last used (POSIX seconds, from the runtime's clock).
    started: float = 0.0
    seen: float = 0.0
    # True when this session is new or changed and must be (re)sent as a cookie.
    dirty: bool = False


class Sessions:
    """Signs, reads and ages the session cookie."""

    def __init__(self, secret_key: str, *, clock: Clock, idle: timedelta) -> None:
        self._serializer = URLSafeTimedSerializer(
            derive_key(secret_key, "session"), salt="cadence.web.session"
        )
        self._clock = clock
        self._idle = idle

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _anonymous(self) -> WebSession:
        return WebSession(user_id=None, csrf=secrets.token_urlsafe(32), dirty=True)

    def read(self, request: Request) -> WebSession:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return self._anonymous()
        try:
            data: Any = self._serializer.loads(raw, max_age=int(SESSION_MAX_AGE.total_seconds()))
        except BadSignature:  # also SignatureExpired
            return self._anonymous()
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return self._anonymous()
        session = WebSession(user_id=None, csrf=data["c"])
        user_id, version = data.get("u"), data.get("v")
        started, seen = data.get("i"), data.get("s")
        if (
            isinstance(user_id, str)
            and isinstance(version, int)
            and isinstance(started, int | float)
            and isinstance(seen, int | float)
        ):
            now = self._now()
            fresh = now - started < SESSION_MAX_AGE.total_seconds()
            if fresh and now - seen < self._idle.total_seconds():
                session.user_id, session.version = user_id, version
                session.started, session.seen = float(started), float(seen)
            else:
                # Expired: a visitor again, with a new CSRF token.
                return self._anonymous()
        return session

    def login(self, session: WebSession, user: User) -> None:
        """Start an authenticated session: a new CSRF token (no fixation of the old one)."""
        session.user_id = user.id
        session.csrf = secrets.token_urlsafe(32)
        session.version = user.session_version
        session.started = session.seen = self._now()
        session.dirty = True

    def is_current(self, session: WebSession, user: User) -> bool:
        """Whether the session still speaks for `user` (not ended by a version bump)."""
        return user.active and session.version == user.session_version

    def keep(self, session: WebSession, user: User) -> None:
        """Go on after the user's own password change, which ended their other sessions."""
        session.version = user.session_version
        session.dirty = True

    def touch(self, session: WebSession) -> None:
        """Note the session's use, at most once a minute (each note rewrites the cookie)."""
        now = self._now()
        if now - session.seen >= SEEN_PRECISION.total_seconds():
            session.seen = now
            session.dirty = True

    def write(self, request: Request, response: Response, session: WebSession) -> None:
        value = self._serializer.dumps(
            {
                "u": session.user_id,
                "c": session.csrf,
                "v": session.version,
                "i": session.started,
                "s": session.seen,
            }
        )
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(SESSION_MAX_AGE.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )

    def clear(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
        )


def is_https(request: Request) -> bool:
    # Behind a proxy, the scheme comes from X-Forwarded-Proto, believed only from the
    # addresses in CADENCE_FORWARDED_ALLOW_IPS (see create_app).
    return request.url.scheme == "https"


def csrf_matches(session: WebSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())
