"""RFC 5545 recurrence rules: read defensively, expanded with dateutil in local time.

RRULE text is user input. dateutil's rrule iterates period by period until it finds
an occurrence or passes year 9999, so a rule that can never match (the 30th of
February, every day) would keep a worker busy for seconds. The grammar accepted here
is therefore a subset (FREQ DAILY to YEARLY, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY,
BYMONTH, WKST) small enough to prove, before dateutil runs, that the rule matches some
day: after that every expansion ends at its first occurrence past the window asked
for. Reading the text is one split per separator: linear in its (capped) length.

The rule runs on the post's wall-clock time in its zone (dtstart carries the ZoneInfo,
and dateutil combines each date with that local time), so a daily 09:00 stays 09:00
across daylight-saving changes; each occurrence is then converted to UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from app.errors import FieldProblem, InvalidInput

MAX_RULE_LENGTH = 500
MAX_COUNT = 1000
MAX_INTERVAL = 1000
# Occurrences one expansion may return (a daily rule over a 10-year horizon fits).
MAX_OCCURRENCES = 4000

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
KNOWN_PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "WKST")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Fixed-length pieces matched one at a time: no backtracking over user text.
_NUMBER = re.compile(r"[+-]?[0-9]{1,4}")
_UNTIL = re.compile(r"([0-9]{8})(T([0-9]{6})(Z?))?")
# Days in each month in a leap year: a month day that fits none of the months is never.
_LONGEST = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class Rule:
    """A checked rule: the text dateutil reads (without UNTIL) and its parts."""

    text: str
    parts: dict[str, str]
    until: tuple[str, str | None, bool] | None  # (date, time, in UTC)

    @property
    def text_with_until(self) -> str:
        """The rule as stored: every part, UNTIL included, normalised."""
        return ";".join(f"{k}={v}" for k, v in self.parts.items())

    @property
    def bounded(self) -> bool:
        return "COUNT" in self.parts or self.until is not None


def _problem(msg: str, field: tuple[str | int, ...]) -> InvalidInput:
    return InvalidInput([FieldProblem(("body", *field), msg)])


def _number(value: str, name: str, low: int, high: int, field: tuple[str | int, ...]) -> int:
    if not _NUMBER.fullmatch(value):
        raise _problem(f"{name} must be a whole number, not {value[:20]!r}", field)
    number = int(value)
    if not low <= abs(number) <= high or (number < 0 and name not in ("BYMONTHDAY", "BYDAY")):
        raise _problem(f"{name} {number} is outside {low} to {high}", field)
    return number


def _split(text: str, field: tuple[str | int, ...]) -> dict[str, str]:
    if len(text) > MAX_RULE_LENGTH:
        raise _problem(f"a rule may be at most {MAX_RULE_LENGTH} characters", field)
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        key, sep, value = piece.partition("=")
        key = key.strip().upper()
        if not sep or not value.strip():
            raise _problem(f"{piece[:30]!r} is not KEY=VALUE (e.g. FREQ=WEEKLY;BYDAY=MO)", field)
        if key not in KNOWN_PARTS:
            allowed = ", ".join(KNOWN_PARTS)
            raise _problem(f"{key[:30]} is not supported; a rule may use {allowed}", field)
        if key in parts:
            raise _problem(f"{key} is given twice", field)
        parts[key] = value.strip().upper()
    if parts.get("FREQ") not in FREQUENCIES:
        raise _problem(f"FREQ must be one of {', '.join(FREQUENCIES)}", field)
    return parts


def _days(value: str, freq: str, field: tuple[str | int, ...]) -> list[tuple[int | None, str]]:
    out: list[tuple[int | None, str]] = []
    for item in value.split(","):
        day, prefix = item[-2:], item[:-2]
        if day not in WEEKDAYS:
            raise _problem(f"BYDAY {item[:10]!r} is not a weekday (MO, TU, ... SU)", field)
        if prefix:
            if freq not in ("MONTHLY", "YEARLY"):
                raise _problem("a numbered BYDAY (like 1MO) needs FREQ=MONTHLY or YEARLY", field)
            out.append((_number(prefix, "BYDAY", 1, 5, field), day))
        else:
            out.append((None, day))
    return out


def _check_matches_some_day(
    parts: dict[str, str], start: datetime, field: tuple[str | int, ...]
) -> None:
    """Refuse the rules that can never match a day, so dateutil never searches forever."""
    freq = parts["FREQ"]
    days = _days(parts["BYDAY"], freq, field) if "BYDAY" in parts else []
    # As dateutil does: a rule naming no day repeats the start's day (and month, yearly).
    default_day = freq in ("MONTHLY", "YEARLY") and not days and "BYMONTHDAY" not in parts
    default_month = str(start.month) if freq == "YEARLY" and default_day else ""
    months = [
        _number(m, "BYMONTH", 1, 12, field)
        for m in parts.get("BYMONTH", default_month).split(",")
        if m
    ] or list(range(1, 13))
    monthdays = [
        _number(d, "BYMONTHDAY", 1, 31, field)
        for d in parts.get("BYMONTHDAY", str(start.day) if default_day else "").split(",")
        if d
    ]
    if monthdays and not any(abs(d) <= _LONGEST[m - 1] for d in monthdays for m in months):
        raise _problem("the rule never matches a day: no chosen month has that day", field)
    if monthdays and any(n is not None for n, _ in days):
        raise _problem("a numbered BYDAY (like 1MO) cannot be combined with BYMONTHDAY", field)
    interval = int(parts.get("INTERVAL", "1"))
    weekdays = {day for _, day in days}
    if freq == "DAILY" and interval % 7 == 0 and days and WEEKDAYS[start.weekday()] not in weekdays:
        raise _problem("every interval lands on the start's weekday, not in BYDAY", field)
    if freq == "MONTHLY" and "BYMONTH" in parts and interval > 1:
        # An interval can step over every chosen month for ever (INTERVAL=12 from March,
        # BYMONTH=2): refuse the combination rather than search.
        raise _problem("BYMONTH cannot be combined with INTERVAL in a monthly rule", field)


def parse(text: str, start: datetime, field: tuple[str | int, ...] = ("recurrence",)) -> Rule:
    """Check a rule for a series starting at `start` (local); InvalidInput names `field`."""
    parts = _split(text, field)
    if "INTERVAL" in parts:
        _number(parts["INTERVAL"], "INTERVAL", 1, MAX_INTERVAL, field)
    if "COUNT" in parts:
        _number(parts["COUNT"], "COUNT", 1, MAX_COUNT, field)
    if "COUNT" in parts and "UNTIL" in parts:
        raise _problem("give COUNT or UNTIL, not both", field)
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise _problem("WKST must be a weekday (MO, TU, ... SU)", field)
    until = None
    if "UNTIL" in parts:
        found = _UNTIL.fullmatch(parts["UNTIL"])
        if found is None:
            raise _problem("UNTIL must be YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ", field)
        until = (found.group(1), found.group(3), found.group(4) == "Z")
        try:
            datetime.strptime(found.group(1) + (found.group(3) or "235959"), "%Y%m%d%H%M%S")
        except ValueError:
            raise _problem("UNTIL is not a real date and time", field) from None
    _check_matches_some_day(parts, start, field)
    rest = ";".join(f"{k}={v}" for k, v in parts.items() if k != "UNTIL")
    return Rule(text=rest, parts=parts, until=until)


def _until(rule: Rule, zone: ZoneInfo, field: tuple[str | int, ...]) -> datetime | None:
    if rule.until is None:
        return None
    day, clock, in_utc = rule.until
    try:
        when = datetime.strptime(day + (clock or "235959"), "%Y%m%d%H%M%S")
    except ValueError:
        raise _problem("UNTIL is not a real date and time", field) from None
    try:
        return when.replace(tzinfo=UTC).astimezone(zone) if in_utc else when.replace(tzinfo=zone)
    except OverflowError:
        raise _problem("UNTIL is outside the range of supported times", field) from None


def _rrule(rule: Rule, start: datetime, field: tuple[str | int, ...]) -> rrule:
    zone = start.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise ValueError("a series starts at a time in an IANA zone")
    try:
        expanded = rrulestr(rule.text, dtstart=start)
    except (ValueError, TypeError, OverflowError):
        raise _problem("the rule is not a valid RFC 5545 RRULE", field) from None
    if not isinstance(expanded, rrule):
        raise _problem("the rule is not a valid RFC 5545 RRULE", field)
    until = _until(rule, zone, field)
    return expanded.replace(until=until) if until is not None else expanded


def occurrences(
    rule: Rule,
    start: datetime,
    *,
    after: datetime,
    before: datetime,
    field: tuple[str | int, ...] = ("recurrence",),
) -> Iterator[datetime]:
    """The rule's times (UTC) in [after, before), from `start` (aware, in the series' zone).

    Stops at the first time past `before`: parse() made sure one exists or the rule ends.
    """
    count = 0
    for at in _utc_times(rule, start, field):
        if at >= before or count >= MAX_OCCURRENCES:
            return
        if at >= after:
            count += 1
            yield at


def _utc_times(rule: Rule, start: datetime, field: tuple[str | int, ...]) -> Iterator[datetime]:
    times = iter(_rrule(rule, start, field))
    while True:
        try:
            local = next(times)
            yield local.astimezone(UTC)
        # Near year 9999 a local time may have no UTC one (or dateutil no next year).
        except (StopIteration, OverflowError, ValueError):
            return


def first(rule: Rule, start: datetime, *, after: datetime) -> datetime | None:
    """The rule's first time (UTC) at or after `after`, or None when it has ended."""
    for at in _utc_times(rule, start, ("recurrence",)):
        if at >= after:
            return at
    return None


def local_start(at: datetime, zone: str, *, time_of_day: time | None = None) -> datetime:
    """`at` in the zone's wall-clock time, optionally moved to another time that day."""
    try:
        local = at.astimezone(ZoneInfo(zone))
    except OverflowError:
        raise _problem("is outside the range of supported times", ("scheduled_at",)) from None
    if time_of_day is not None:
        local = local.replace(hour=time_of_day.hour, minute=time_of_day.minute, second=0)
    return local.replace(microsecond=0, fold=0)


def horizon(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


__all__ = ["Rule", "first", "horizon", "local_start", "occurrences", "parse"]
