"""Posting slots and the queue: a weekly rhythm per objective, and "post this at the
objective's next free slot".

A slot is free at a time when no scheduled post, and no post pending approval, of the
objective sits at exactly that time (a post waiting for an approver has taken its
slot: approving it must not double-book). Slot times are local to the objective's zone
(Monday = 0), so 09:30 stays 09:30 across daylight-saving changes.

Two queue requests at once: the slot is found in the read phase, then `hold` runs first
in the write transaction, locking the objective's row (PostgreSQL; SQLite's writers
take turns already, BEGIN IMMEDIATE) and checking the slot again, so the later request
gets 409 instead of the same slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.errors import Conflict, FieldProblem, InvalidInput, NotFound, invalid
from app.objectives import service as objectives
from app.objectives.models import Objective
from app.planning.models import Slot
from app.planning.schemas import SlotIn
from app.posts.models import Post, PostState, post_objectives
from app.posts.schemas import PostCreate
from app.posts.service import PAST_GRACE


def of(session: Session, objective_id: str) -> list[Slot]:
    objectives.get(session, objective_id)  # 404 for an unknown objective
    return list(
        session.scalars(
            select(Slot)
            .where(Slot.objective_id == objective_id)
            .order_by(Slot.weekday, Slot.time, Slot.id)
        )
    )


def replace(session: Session, objective_id: str, slots: Sequence[SlotIn]) -> list[Slot]:
    """PUT: the objective's slots become exactly these."""
    objectives.get(session, objective_id)
    problems: list[FieldProblem] = []
    seen: dict[tuple[int, str], int] = {}
    wanted = {c for s in slots for c in s.channel_ids}
    known = (
        set(session.scalars(select(Channel.id).where(Channel.id.in_(wanted)))) if wanted else set()
    )
    for i, slot in enumerate(slots):
        key = (slot.weekday, slot.time)
        if key in seen:
            problems.append(
                FieldProblem(("body", i, "time"), f"the same weekday and time as slot {seen[key]}")
            )
        seen.setdefault(key, i)
        problems += [
            FieldProblem(("body", i, "channel_ids", j), f"channel {cid} not found")
            for j, cid in enumerate(slot.channel_ids)
            if cid not in known
        ]
    if problems:
        raise InvalidInput(problems)
    session.execute(delete(Slot).where(Slot.objective_id == objective_id))
    for slot in slots:
        session.add(
            Slot(
                objective_id=objective_id,
                weekday=slot.weekday,
                time=slot.time,
                channel_ids=list(dict.fromkeys(slot.channel_ids)),
            )
        )
    session.flush()
    return of(session, objective_id)


def _times(
    slots: Sequence[Slot], zone: ZoneInfo, first: date, days: int
) -> Iterator[tuple[datetime, Slot]]:
    """The slots' times, day by day, soonest first (lazily: the caller stops early)."""
    by_weekday: dict[int, list[Slot]] = {}
    for slot in sorted(slots, key=lambda s: s.time):
        by_weekday.setdefault(slot.weekday, []).append(slot)
    for n in range(days):
        day = first + timedelta(days=n)
        times = []
        for slot in by_weekday.get(day.weekday(), []):
            hour, minute = slot.time.split(":")
            local = datetime(day.year, day.month, day.day, int(hour), int(minute), tzinfo=zone)
            times.append((local.astimezone(UTC), slot))
        # A daylight-saving change can reorder two slots of one day.
        yield from sorted(times, key=lambda pair: pair[0])


def next_free(
    session: Session, objective_id: str, *, now: datetime, days: int, first: date | None = None
) -> tuple[datetime, Slot] | None:
    """The objective's first slot time from now (and from day `first`) on, over `days`
    days, with no scheduled post in it."""
    objective = objectives.get(session, objective_id)
    slots = of(session, objective_id)
    if not slots:
        return None
    zone = ZoneInfo(objective.timezone)
    start = first or now.astimezone(zone).date()
    earliest = now - PAST_GRACE + timedelta(seconds=1)
    # Every scheduled or pending post of the objective in the window.
    low = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(days=1)
    taken = _taken(session, objective_id, low, low + timedelta(days=days + 2))
    return next(
        (
            (at, slot)
            for at, slot in _times(slots, zone, start, days)
            if at >= earliest and at not in taken
        ),
        None,
    )


# The states whose posts occupy a slot.
TAKING = (PostState.scheduled, PostState.pending_approval)


def _taken(session: Session, objective_id: str, low: datetime, high: datetime) -> set[datetime]:
    """The times, from low to high included, of the objective's posts that take a slot."""
    return {
        at
        for at in session.scalars(
            select(Post.scheduled_at)
            .join(post_objectives, post_objectives.c.post_id == Post.id)
            .where(
                post_objectives.c.objective_id == objective_id,
                Post.state.in_(TAKING),
                Post.scheduled_at >= low,
                Post.scheduled_at <= high,
            )
        )
        if at is not None
    }


def hold(session: Session, objective_id: str, at: datetime) -> None:
    """First in a queued post's write transaction: lock the objective and check that
    its slot at `at` is still free (409 when a concurrent request took it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Objective.id).where(Objective.id == objective_id).with_for_update())
    if at in _taken(session, objective_id, at, at):
        raise Conflict("the slot was taken meanwhile by another post: queue the post again")


def queued(session: Session, data: PostCreate, *, now: datetime, days: int) -> PostCreate:
    """The post with its time (and, when it names none, its channels) from the next free
    slot of its one objective."""
    if data.scheduled_at is not None or data.publish_now:
        raise invalid(
            "queue",
            "a queued post takes its time from a slot: leave out scheduled_at and publish_now",
        )
    if len(set(data.objective_ids)) != 1:
        raise invalid("objective_ids", "a queued post needs exactly one objective")
    objective_id = data.objective_ids[0]
    try:
        objective = objectives.get(session, objective_id)
    except NotFound:
        raise InvalidInput(
            [FieldProblem(("body", "objective_ids", 0), f"objective {objective_id} not found")]
        ) from None
    if not of(session, objective_id):
        raise invalid("queue", f"objective {objective.name!r} has no posting slots")
    found = next_free(session, objective_id, now=now, days=days)
    if found is None:
        raise invalid(
            "queue", f"objective {objective.name!r} has no free slot in the next {days} days"
        )
    at, slot = found
    channels = data.channel_ids or list(slot.channel_ids)
    return data.model_copy(update={"scheduled_at": at, "channel_ids": channels, "queue": False})


def holder(session: Session, data: PostCreate) -> Callable[[], None]:
    """`hold` for a post `queued` has placed, to run first in its write transaction."""
    objective_id, at = data.objective_ids[0], data.scheduled_at
    if at is None:
        raise invalid("queue", "a queued post takes its time from a slot")
    return lambda: hold(session, objective_id, at)
