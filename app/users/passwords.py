"""Passwords for the web pages: argon2id hashes, checked in constant-ish time.

New passwords must be at least MIN_LENGTH characters and not easily guessed, as
judged by zxcvbn (a dictionary-, pattern- and keyboard-aware strength estimator).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from app.errors import FieldProblem, InvalidInput
from app.users.models import User
from app.users.service import end_sessions

MIN_LENGTH = 12
# zxcvbn's scores run 0 (too guessable) to 4; 3 is "safely unguessable" for an online
# attack, which is what a login form faces.
MIN_SCORE = 3
# zxcvbn's matching grows faster than linearly with the length (and it refuses over 72
# characters), so it judges a prefix: a strong prefix makes a strong password.
_JUDGED_PREFIX = 64
# argon2 takes any length, but a megabyte "password" is only a way to spend our CPU.
MAX_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
# Verified against when the e-mail is unknown, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("not a password: only spends the same time as a real check")


def check_strength(
    password: str, *, field: str = "password", user_inputs: tuple[str, ...] = ()
) -> None:
    """Refuse a short or guessable password (422 naming `field`, with zxcvbn's advice).

    `user_inputs`: words the password must not lean on (the person's e-mail, name).
    """
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters, please")
    elif len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    elif not password.strip():
        problems.append("a password cannot be only spaces")
    else:
        # The whole e-mail and its parts ("ann", "example.org").
        words = [w for text in user_inputs for w in (text, *text.replace("@", " ").split())]
        judged = zxcvbn(password[:_JUDGED_PREFIX], user_inputs=words)
        if judged["score"] < MIN_SCORE:
            advice = [judged["feedback"]["warning"], *judged["feedback"]["suggestions"]]
            problems.append(
                " ".join(["too easy to guess.", *(a for a in advice if a)])
                if any(advice)
                else "too easy to guess: use a longer passphrase of uncommon words."
            )
    if problems:
        raise InvalidInput([FieldProblem(("body", field), p) for p in problems])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(session: Session, *, user: User, password: str, field: str = "password") -> None:
    """Give the user a new password (checked for strength). Their web sessions end."""
    check_strength(password, field=field, user_inputs=(user.email, user.name or ""))
    user.password_hash = hash_password(password)
    end_sessions(user)
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
    if user is not None and not user.active:
        user = None  # a disabled person cannot log in; the check still takes its time
    if not verify_password(user, password):
        return None
    if user is None or user.password_hash is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user
