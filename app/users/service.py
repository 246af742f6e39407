from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
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


def user_for_token(session: Session, *, token: str, now: datetime) -> User | None:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    api_token, user = row
    # Writing last_used_at on every request would serialise reads on SQLite; a minute's
    # precision is plenty to see which tokens are in use.
    if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
        api_token.last_used_at = now
    return user
