from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.users.models import ApiToken, Role, User

TOKEN_PREFIX = "cad_"


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


def get_or_create_user(session: Session, *, email: str, role: Role, now: datetime) -> User:
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=role, created_at=now, name="")
        session.add(user)
    else:
        user.role = role
    session.flush()
    return user


def create_token(session: Session, *, user: User, now: datetime, name: str = "") -> str:
    """Create a token and return it; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            prefix=token[:12],
            name=name,
            created_at=now,
        )
    )
    session.flush()
    return token


# Writing last_used_at on every request would serialise reads on SQLite; a minute's
# precision is plenty to see which tokens are in use.
USE_PRECISION = timedelta(seconds=60)


def user_for_token(
    session: Session, *, token: str, now: datetime, record_use: bool = True
) -> tuple[User | None, bool]:
    """The token's user, and whether its use is due to be recorded (last_used_at is
    older than USE_PRECISION); with record_use it is recorded in this session."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None, False
    api_token, user = row
    due = api_token.last_used_at is None or now - api_token.last_used_at > USE_PRECISION
    if due and record_use:
        api_token.last_used_at = now
    return user, due


def record_token_use(session: Session, *, token: str, now: datetime) -> None:
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.token_hash == hash_token(token),
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - USE_PRECISION),
        )
        .values(last_used_at=now)
    )
