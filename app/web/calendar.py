"""The calendar and heatmap grids: which days to show, and what each day holds."""

from __future__ import annotations

import calendar as cal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.coverage.service import Cell
from app.objectives.models import Objective
from app.posts.schemas import PostOut

# Text and a symbol for each post status: the colour of a chip is the objective's,
# so the status must never be told by colour alone.
STATUS = {
    "draft": ("✎", "Draft"),
    "pending_approval": ("⧗", "Awaiting approval"),
    "scheduled": ("◷", "Scheduled"),
    "publishing": ("↻", "Publishing"),
    "published": ("✓", "Published"),
    "partially_published": ("◐", "Partly published"),
    "failed": ("✕", "Failed"),
    "cancelled": ("⊘", "Cancelled"),
    "needs_review": ("?", "Needs review"),
}

DELIVERY_STATUS = {
    "draft": ("✎", "Draft"),
    "scheduled": ("◷", "Scheduled"),
    "publishing": ("↻", "Publishing now"),
    "retrying": ("↻", "Waiting to retry"),
    "published": ("✓", "Published"),
    "failed": ("✕", "Failed"),
    "unknown": ("?", "Outcome unknown"),
    "cancelled": ("⊘", "Cancelled"),
    "waiting": ("⚠", "Waiting for its channel to be reconnected"),
}


# Posts one calendar page shows; a busier month or week is paged, with a notice.
POSTS_PER_PAGE = 1000


@dataclass(frozen=True)
class Paging:
    """Which of the period's posts this page shows, when they do not all fit."""

    first: int  # 1-based
    last: int
    total: int
    next_offset: int | None
    previous_offset: int | None


def paging(total: int, *, offset: int, shown: int) -> Paging | None:
    """None when the page shows every post of the period."""
    if offset == 0 and shown >= total:
        return None
    after = offset + POSTS_PER_PAGE
    return Paging(
        first=min(offset + 1, total) if shown else 0,
        last=offset + shown,
        total=total,
        next_offset=after if after < total else None,
        previous_offset=max(offset - POSTS_PER_PAGE, 0) if offset > 0 else None,
    )


def month_range(anchor: date) -> tuple[date, date]:
    """Monday before the 1st to the Sunday after the last day: whole weeks."""
    first = anchor.replace(day=1)
    last = anchor.replace(day=cal.monthrange(anchor.year, anchor.month)[1])
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


def week_range(anchor: date) -> tuple[date, date]:
    start = anchor - timedelta(days=anchor.weekday())
    return start, start + timedelta(days=6)


def shift(anchor: date, view: str, steps: int) -> date:
    if view == "week":
        return anchor + timedelta(weeks=steps)
    month = anchor.month - 1 + steps
    year = anchor.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(anchor.day, cal.monthrange(year, month)[1]))


def utc_bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the zone, as UTC."""
    low = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return low, high


@dataclass
class Mark:
    """An objective-day that is not covered: uncovered (to come) or missed (ended)."""

    objective: Objective
    kind: str  # "uncovered" or "missed"
    count: int
    required: int


@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    posts: list[PostOut] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


def build_days(
    start: date,
    end: date,
    *,
    month: int | None,
    today: date,
    posts: Iterable[PostOut],
    cells: Sequence[Cell],
    objectives: dict[str, Objective],
    zone: ZoneInfo,
) -> list[Day]:
    by_day = {
        start + timedelta(days=n): Day(
            day=start + timedelta(days=n),
            in_month=month is None or (start + timedelta(days=n)).month == month,
            today=start + timedelta(days=n) == today,
        )
        for n in range((end - start).days + 1)
    }
    for post in posts:
        if post.scheduled_at is None:
            continue
        local = post.scheduled_at.astimezone(zone).date()
        if local in by_day:
            by_day[local].posts.append(post)
    for cell in cells:
        day = by_day.get(cell.day)
        if day is None or cell.required == 0 or cell.covered:
            continue
        day.marks.append(
            Mark(
                objective=objectives[cell.objective_id],
                kind="missed" if cell.ended else "uncovered",
                count=cell.published if cell.ended else cell.planned,
                required=cell.required,
            )
        )
    return list(by_day.values())


def weeks(days: list[Day]) -> list[list[Day]]:
    return [days[i : i + 7] for i in range(0, len(days), 7)]


@dataclass
class HeatCell:
    objective: Objective
    day: date
    state: str  # covered, uncovered, missed, or off (nothing required)
    required: int
    planned: int
    published: int
    today: bool

    @property
    def label(self) -> str:
        word = {
            "covered": "covered",
            "uncovered": "not covered yet",
            "missed": "missed",
            "off": "nothing required",
        }[self.state]
        return (
            f"{self.objective.name}, {self.day:%a} {self.day.day} {self.day:%b}: {word}. "
            f"{self.planned} planned, {self.published} published, {self.required} required."
        )


def heat_state(cell: Cell) -> str:
    if cell.required == 0:
        return "off"
    if cell.covered:
        return "covered"
    return "missed" if cell.ended else "uncovered"


def heatmap(
    objectives: Sequence[Objective], cells: Sequence[Cell], *, today: date
) -> list[tuple[Objective, list[HeatCell]]]:
    by_objective: dict[str, list[HeatCell]] = {o.id: [] for o in objectives}
    names = {o.id: o for o in objectives}
    for c in cells:
        by_objective[c.objective_id].append(
            HeatCell(
                objective=names[c.objective_id],
                day=c.day,
                state=heat_state(c),
                required=c.required,
                planned=c.planned,
                published=c.published,
                today=c.day == today,
            )
        )
    return [(o, by_objective[o.id]) for o in objectives]
