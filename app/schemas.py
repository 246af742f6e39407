"""Pydantic building blocks shared by the features' request and response models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StringConstraints,
    field_validator,
)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Input(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000; no field has a use for it.
        if _has_nul(value):
            raise ValueError("may not contain NUL characters")
        return value


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _iana(value: str) -> str:
    try:
        ZoneInfo(value)
    # OSError: a directory of the zone database ("Europe") is not a zone.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(_iana)]


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59:59-14:00 is past year 9999 in UTC
        raise ValueError("is outside the range of supported times") from exc


def _iso_text(value: Any) -> Any:
    """Refuse numbers where a date or time is expected.

    pydantic reads 0.5 or "1700000000" as seconds since 1970; a person who sends that
    made a mistake, so only ISO 8601 text (or a value already parsed) gets through.
    """
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("must be ISO 8601 text, like 2026-12-01 or 2026-12-01T09:30:00+00:00")
    try:
        float(value)
    except ValueError:
        return value
    raise ValueError("must be ISO 8601 text, like 2026-12-01 or 2026-12-01T09:30:00+00:00")


# A time with an offset (a time without one is refused), converted to UTC.
UTCTime = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_utc)]
# A JSON true or false; 0, 1 or "yes" are refused in bodies.
Flag = StrictBool

Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

# Days a query may name: reports and calendars add days and weeks to them and take
# local midnights in any zone, which must stay inside Python's years 1 to 9999.
FIRST_DAY = date(2, 1, 1)
LAST_DAY = date(9998, 12, 31)
# A calendar day, written as ISO 8601 text, between FIRST_DAY and LAST_DAY.
Day = Annotated[date, BeforeValidator(_iso_text), Ge(FIRST_DAY), Le(LAST_DAY)]


def patch_fields(update: BaseModel, *, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH body set; null is refused for fields that cannot be empty."""
    from app.errors import FieldProblem, InvalidInput

    data = update.model_dump(exclude_unset=True)
    nulls = [k for k, v in data.items() if v is None and k not in nullable]
    if nulls:
        raise InvalidInput([FieldProblem(("body", k), "may not be null") for k in nulls])
    return data
