"""People and their API tokens: creating, listing, revoking, disabling."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, invalid
from app.users.models import ApiToken, Role, User
from app.users.roles import has_role

TOKEN_PREFIX = "cad_"
# Writing last_used_at on every request would turn every GET into a write (and
# serialise reads on SQLite); a minute's precision is plenty to see which tokens live.
LAST_USED_PRECISION = timedelta(minutes=1)


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


def create_token(
    session: Session,
    *,
    user: User,
    now: datetime,
    name: str = "",
    expires_at: datetime | None = None,
) -> str:
    """Create a token and return it; only its hash is stored, so it is shown once."""
    return create_token_row(session, user=user, now=now, name=name, expires_at=expires_at)[1]


def create_token_row(
    session: Session,
    *,
    user: User,
    now: datetime,
    name: str = "",
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    if expires_at is not None and expires_at <= now:
        raise invalid("expires_at", "must be in the future")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=hash_token(token),
        prefix=token[:12],
        name=name,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, token


def _usable(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Tokens that open the API: not revoked, not expired, of an active person."""
    return (
        ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        User.active.is_(True),
    )


def user_for_token(
    session: Session, *, token: str, now: datetime, record_use: bool = True
) -> tuple[User | None, bool]:
    """The token's user, and whether its use is due to be recorded (last_used_at is
    older than LAST_USED_PRECISION); with record_use it is recorded in this session."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(token), *_usable(now))
    ).first()
    if row is None:
        return None, False
    api_token, user = row
    # Read by app.team.audit.record: which token made the change this session writes.
    session.info["token_id"] = api_token.id
    due = api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_PRECISION
    if due and record_use:
        api_token.last_used_at = now
    return user, due


def record_token_use(session: Session, *, token: str, now: datetime) -> None:
    """Record a token's use in a transaction of its own (after a read-only request)."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.token_hash == hash_token(token),
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - LAST_USED_PRECISION,
            ),
        )
        .values(last_used_at=now)
    )


def list_tokens(
    session: Session, *, viewer: User, limit: int, offset: int
) -> tuple[Sequence[tuple[ApiToken, User]], int]:
    """Tokens not revoked: the viewer's own, or everyone's for an admin."""
    query = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.revoked_at.is_(None))
    )
    if not has_role(viewer, Role.admin):
        query = query.where(ApiToken.user_id == viewer.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(User.email, ApiToken.created_at, ApiToken.id).limit(limit).offset(offset)
    ).all()
    return [(t, u) for t, u in rows], total


def revoke_token(session: Session, *, viewer: User, token_id: str, now: datetime) -> ApiToken:
    """Revoke a token; someone else's token is "not found" unless the viewer is an admin."""
    token = session.get(ApiToken, token_id)
    if (
        token is None
        or token.revoked_at is not None
        or (token.user_id != viewer.id and not has_role(viewer, Role.admin))
    ):
        raise NotFound("token", token_id)
    token.revoked_at = now
    session.flush()
    return token


def end_sessions(user: User) -> None:
    """End every web session of the person: their cookies carry the old version."""
    user.session_version = (user.session_version or 0) + 1


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def _other_active_admins(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                User.role == Role.admin, User.active.is_(True), User.id != user.id
            )
        )
        or 0
    )


def change_user(
    session: Session,
    *,
    user: User,
    now: datetime,
    active: bool | None = None,
    role: Role | None = None,
) -> User:
    """Disable or enable a person, or change their role.

    Disabling revokes their tokens and ends their sessions at once. The last active
    admin can be neither disabled nor demoted: nobody could undo it from the pages.
    """
    loses_admin = (
        user.role == Role.admin
        and user.active
        and (active is False or (role is not None and role != Role.admin))
    )
    if loses_admin and not _other_active_admins(session, user):
        raise Conflict("this is the last active admin: make someone else admin first")
    if role is not None:
        user.role = role
    if active is False and user.active:
        user.active = False
        end_sessions(user)
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    elif active is True:
        user.active = True
    session.flush()
    return user
