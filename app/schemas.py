"""Pydantic building blocks shared by the features' request and response models."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


class Input(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _iana(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(_iana)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def patch_fields(update: BaseModel, *, nullable: frozenset[str] = frozenset()) -> dict[str, object]:
    """The fields a PATCH body set; null is refused for fields that cannot be empty."""
    from app.errors import FieldProblem, InvalidInput

    data = update.model_dump(exclude_unset=True)
    nulls = [k for k, v in data.items() if v is None and k not in nullable]
    if nulls:
        raise InvalidInput([FieldProblem(("body", k), "may not be null") for k in nulls])
    return data
