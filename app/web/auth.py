"""Web sessions, CSRF tokens and login throttling.

Session: a signed cookie (itsdangerous, keyed with a key derived from the runtime's
secret key by HMAC-SHA256, so it differs from the key that encrypts credentials)
holding the user id, the session's CSRF token and a fingerprint of the user's
password hash: setting a new password ends every other session of that user.
Nothing is stored server side; logging out deletes the cookie.

CSRF: every POST to the web pages must carry the session's token, in the form field
`csrf_token` or (for the small JSON calls the pages' script makes) the header
`X-CSRF-Token`; otherwise 403. Visitors who are not logged in get a session too, so
the login form is protected the same way.

Login throttling: in memory, per process (see LoginThrottle).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.users.models import User

COOKIE = "cadence_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_MAX_AGE = timedelta(days=7)


def derive_key(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), f"cadence-web:{purpose}".encode(), hashlib.sha256).digest()


@dataclass
class WebSession:
    user_id: str | None
    csrf: str
    password_mark: str | None = None
    # True when this session is new or changed and must be (re)sent as a cookie.
    dirty: bool = False


class Sessions:
    """Signs and reads the session cookie."""

    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, "session")
        self._serializer = URLSafeTimedSerializer(self._key, salt="cadence.web.session")

    def password_mark(self, user: User) -> str:
        """A short fingerprint of the password hash: changes when the password does."""
        digest = hmac.new(self._key, (user.password_hash or "").encode(), hashlib.sha256)
        return digest.hexdigest()[:16]

    def read(self, request: Request) -> WebSession:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data: dict[str, Any] = self._serializer.loads(
                    raw, max_age=int(SESSION_MAX_AGE.total_seconds())
                )
                if isinstance(data, dict) and isinstance(data.get("c"), str):
                    return WebSession(
                        user_id=data.get("u"), csrf=data["c"], password_mark=data.get("p")
                    )
            except BadSignature:  # also SignatureExpired
                pass
        return WebSession(user_id=None, csrf=secrets.token_urlsafe(32), dirty=True)

    def login(self, session: WebSession, user: User) -> None:
        """Start an authenticated session: a new CSRF token (no fixation of the old one)."""
        session.user_id = user.id
        session.csrf = secrets.token_urlsafe(32)
        session.password_mark = self.password_mark(user)
        session.dirty = True

    def keep(self, session: WebSession, user: User) -> None:
        """Go on after the user's own password change, which ends their other sessions."""
        session.password_mark = self.password_mark(user)
        session.dirty = True

    def write(self, request: Request, response: Response, session: WebSession) -> None:
        value = self._serializer.dumps(
            {"u": session.user_id, "c": session.csrf, "p": session.password_mark}
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
    # Behind a proxy, uvicorn sets the scheme from X-Forwarded-Proto (trusted proxies only).
    return request.url.scheme == "https"


def csrf_matches(session: WebSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(session.csrf.encode(), str(given).encode())


class LoginThrottle:
    """At most `limit` failed logins per e-mail and per client address in `window`.

    Kept in memory, per process: simple, no table to clean up, and it forgets on
    restart. With several `cadence serve` processes behind a balancer an attacker gets
    `limit` tries per process; each try still costs an argon2 verification. A success
    clears the e-mail's failures (not the address's, which may be shared by an
    attacker trying many accounts).
    """

    def __init__(self, limit: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked_until(self, *, email: str, address: str, now: datetime) -> datetime | None:
        """When the next try will be allowed, if it is not allowed now."""
        with self._lock:
            waits = []
            for key in (f"e:{email.strip().lower()}", f"a:{address}"):
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    waits.append(times[-self.limit] + self.window)
            return max(waits) if waits else None

    def failed(self, *, email: str, address: str, now: datetime) -> None:
        with self._lock:
            for key in (f"e:{email.strip().lower()}", f"a:{address}"):
                self._recent(key, now).append(now)
            self._forget_old(now)

    def succeeded(self, *, email: str) -> None:
        with self._lock:
            self._failures.pop(f"e:{email.strip().lower()}", None)

    def _forget_old(self, now: datetime) -> None:
        """Drop keys with no recent failure, so many one-off e-mails do not pile up."""
        if len(self._failures) > 1000:
            for key in list(self._failures):
                if not self._recent(key, now):
                    del self._failures[key]
