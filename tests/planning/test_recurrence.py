"""RRULE reading and expansion: local wall-clock times across DST, and rules refused
before dateutil could search for ever."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.errors import InvalidInput
from app.planning import recurrence


def _expand(rule: str, start: datetime, days: int = 400) -> list[datetime]:
    parsed = recurrence.parse(rule, start)
    return list(
        recurrence.occurrences(parsed, start, after=start, before=start + timedelta(days=days))
    )


@pytest.mark.parametrize(
    ("zone", "first_day", "offsets"),
    [
        # Last Sunday of March: 09:00 is 09:00 UTC, then 08:00 UTC.
        ("Europe/London", datetime(2027, 3, 26), {0, 3600}),
        # Second Sunday of March: 09:00 is 14:00 UTC, then 13:00 UTC.
        ("America/New_York", datetime(2027, 3, 12), {-5 * 3600, -4 * 3600}),
        # First Sunday of April, when New Zealand's summer time ends: 13 then 12 hours.
        ("Pacific/Auckland", datetime(2027, 4, 2), {13 * 3600, 12 * 3600}),
    ],
)
def test_a_daily_0900_stays_0900_local_across_the_change(
    zone: str, first_day: datetime, offsets: set[int]
) -> None:
    start = first_day.replace(hour=9, tzinfo=ZoneInfo(zone))
    times = _expand("FREQ=DAILY;COUNT=6", start)
    assert len(times) == 6
    local = [t.astimezone(ZoneInfo(zone)) for t in times]
    assert {(t.hour, t.minute) for t in local} == {(9, 0)}
    assert [t.date() for t in local] == [(first_day + timedelta(days=i)).date() for i in range(6)]
    seen = {int(t.utcoffset().total_seconds()) for t in local}  # type: ignore[union-attr]
    assert seen == offsets
    assert all(t.tzinfo == UTC for t in times)


def test_weekly_by_day_with_count_and_until_in_utc_or_local() -> None:
    start = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Europe/London"))  # a Monday
    times = _expand("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8", start)
    assert len(times) == 8
    assert {t.weekday() for t in times} == {0, 2}
    until_utc = _expand("RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261214T093000Z", start)
    until_day = _expand("freq=weekly;byday=mo;until=20261214", start)
    assert until_utc == until_day and len(until_day) == 4
    every_other = _expand("FREQ=WEEKLY;INTERVAL=2;UNTIL=20261221", start)
    assert [t.day for t in every_other] == [23, 7, 21]


def test_monthly_on_the_31st_skips_short_months() -> None:
    start = datetime(2027, 1, 31, 12, tzinfo=ZoneInfo("UTC"))
    times = _expand("FREQ=MONTHLY;COUNT=4", start, days=800)
    assert [(t.month, t.day) for t in times] == [(1, 31), (3, 31), (5, 31), (7, 31)]


def test_an_unbounded_rule_stops_at_the_window() -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Europe/London"))
    rule = recurrence.parse("FREQ=DAILY", start)
    assert not rule.bounded
    assert len(_expand("FREQ=DAILY", start, days=90)) == 90


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("", "KEY=VALUE"),
        ("FREQ=HOURLY", "FREQ must be one of"),
        ("FREQ=MINUTELY;COUNT=5", "FREQ must be one of"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported"),
        ("FREQ=DAILY;BYSETPOS=3", "BYSETPOS is not supported"),
        ("FREQ=DAILY;FREQ=WEEKLY", "given twice"),
        ("FREQ=DAILY;COUNT=0", "COUNT 0 is outside"),
        ("FREQ=DAILY;COUNT=-2", "COUNT -2 is outside"),
        ("FREQ=DAILY;COUNT=ten", "whole number"),
        ("FREQ=DAILY;INTERVAL=99999", "whole number"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101", "not both"),
        ("FREQ=DAILY;UNTIL=2027-01-01", "UNTIL must be"),
        ("FREQ=DAILY;UNTIL=20270231", "not a real date"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a weekday"),
        ("FREQ=DAILY;BYDAY=1MO", "numbered BYDAY"),
        ("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20", "cannot be combined"),
        ("FREQ=DAILY;BYMONTH=13", "BYMONTH 13 is outside"),
        ("FREQ=DAILY;WKST=XY", "WKST"),
        ("FREQ=DAILY;X-NAME=1", "not supported"),
        ("FREQ=DAILY;" + "BYMONTH=1;" * 60, "at most 500"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(rule: str, words: str) -> None:
    start = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Europe/London"))
    with pytest.raises(InvalidInput) as caught:
        recurrence.parse(rule, start)
    (problem,) = caught.value.problems
    assert problem.loc == ("body", "recurrence")
    assert words in problem.msg


@pytest.mark.parametrize(
    "rule",
    [
        # dateutil would search day by day up to year 9999 for these (seconds each).
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-30",
        "FREQ=MONTHLY;BYMONTH=2",  # from the 30th: February has none
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=2;BYMONTHDAY=1",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # from a Monday: every step is a Monday
    ],
)
def test_rules_that_never_match_are_refused_before_expanding(rule: str) -> None:
    start = datetime(2026, 11, 30, 9, tzinfo=ZoneInfo("Europe/London"))  # Monday the 30th
    with pytest.raises(InvalidInput) as caught:
        recurrence.parse(rule, start)
    assert caught.value.problems[0].loc == ("body", "recurrence")


def test_rare_but_possible_rules_are_kept() -> None:
    start = datetime(2026, 11, 30, 9, tzinfo=ZoneInfo("Europe/London"))
    leap_days = _expand("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=2", start, days=3000)
    assert [t.year for t in leap_days] == [2028, 2032]
    fridays = _expand("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;COUNT=2", start, days=800)
    assert all(t.weekday() == 4 and t.day == 13 for t in fridays) and len(fridays) == 2
    last_sunday = _expand("FREQ=MONTHLY;BYDAY=-1SU;COUNT=2", start, days=100)
    assert [t.day for t in last_sunday] == [27, 31]
