"""Local calendar days of an objective: their bounds in UTC, and which of them are required."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.objectives.models import Objective


def local_today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in UTC. A daylight-saving day is 23 or 25 hours long."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def days(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def required(objective: Objective, day: date) -> int:
    """Posts the objective needs that day: none when archived, on an inactive weekday,
    or before the objective existed (nobody could have planned for it)."""
    if objective.archived or day.weekday() not in objective.active_weekdays:
        return 0
    if day < local_today(objective.created_at, objective.timezone):
        return 0
    return objective.min_posts_per_day
