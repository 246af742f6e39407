"""What a person changes about themselves: their time zone. (Passwords: users.passwords.)"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, InvalidInput
from app.schemas import TimeZoneName
from app.users.models import User


def set_timezone(session: Session, *, user: User, timezone: str | None) -> None:
    """The zone the web pages show and read times in; None falls back to CADENCE_TIMEZONE."""
    from pydantic import TypeAdapter, ValidationError

    if timezone:
        try:
            TypeAdapter(TimeZoneName).validate_python(timezone)
        except ValidationError:
            raise InvalidInput(
                [FieldProblem(("body", "timezone"), f"unknown IANA time zone {timezone!r}")]
            ) from None
    user.timezone = timezone or None
    session.flush()


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.email)).all()
