from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from app.exchange.utm import DEFAULT_TEMPLATE, template_problem
from app.schemas import Color, Flag, Input, Name, Output, TimeZoneName

Weekday = Annotated[int, Field(ge=0, le=6)]
Autofill = Literal["off", "suggest", "schedule"]


def _template(value: str) -> str:
    problem = template_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


UtmTemplate = Annotated[str, AfterValidator(_template)]


def _distinct_sorted(days: list[int] | None) -> list[int] | None:
    return None if days is None else sorted(set(days))


class ObjectiveCreate(Input):
    name: Name
    description: str = Field(default="", max_length=5000)
    color: Color = "#2563eb"
    min_posts_per_day: int = Field(default=1, ge=0, le=1000)
    active_weekdays: list[Weekday] = Field(default_factory=lambda: list(range(7)), max_length=7)
    timezone: TimeZoneName | None = None
    archived: Flag = False
    # insights: links in its posts go out as counting redirects
    track_clicks: Flag = False
    utm: Flag = False
    utm_template: UtmTemplate = DEFAULT_TEMPLATE
    # planning: auto-fill uncovered days from the evergreen library.
    autofill: Autofill = "off"
    autofill_ahead_days: int = Field(default=2, ge=1, le=30)

    _days = field_validator("active_weekdays")(_distinct_sorted)


class ObjectiveUpdate(Input):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=5000)
    color: Color | None = None
    min_posts_per_day: int | None = Field(default=None, ge=0, le=1000)
    active_weekdays: list[Weekday] | None = Field(default=None, max_length=7)
    timezone: TimeZoneName | None = None
    archived: Flag | None = None
    track_clicks: Flag | None = None
    utm: Flag | None = None
    utm_template: UtmTemplate | None = None
    autofill: Autofill | None = None
    autofill_ahead_days: int | None = Field(default=None, ge=1, le=30)

    _days = field_validator("active_weekdays")(_distinct_sorted)


class ObjectiveOut(Output):
    id: str
    name: str
    description: str
    color: str
    min_posts_per_day: int
    active_weekdays: list[int]
    timezone: str
    archived: bool
    track_clicks: bool = False
    utm: bool
    utm_template: str
    autofill: str
    autofill_ahead_days: int
    created_at: datetime
    updated_at: datetime
