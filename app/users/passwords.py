"""Passwords for the web pages: argon2id hashes, checked in constant-ish time."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, InvalidInput
from app.users.models import User

MIN_LENGTH = 8
# argon2 takes any length, but a megabyte "password" is only a way to spend our CPU.
MAX_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
# Verified against when the e-mail is unknown, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("not a password: only spends the same time as a real check")


def check_strength(password: str, *, field: str = "password") -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters, please")
    elif len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    elif not password.strip():
        problems.append("a password cannot be only spaces")
    if problems:
        raise InvalidInput([FieldProblem(("body", field), p) for p in problems])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(session: Session, *, user: User, password: str) -> None:
    """Give the user a new password (checked for length). Existing web sessions end."""
    check_strength(password)
    user.password_hash = hash_password(password)
    session.flush()


def verify_password(user: User | None, password: str) -> bool:
    """Whether `password` is the user's; takes an argon2 verification's time either way."""
    stored = user.password_hash if user is not None else None
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The user with this e-mail and password, or None; upgrades an outdated hash."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not verify_password(user, password):
        return None
    assert user is not None and user.password_hash is not None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user
