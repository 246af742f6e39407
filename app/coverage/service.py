"""Coverage: how many posts serve each objective on each local day, and the alerts
that follow from it. Counted with one grouped query, never by loading posts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertKind
from app.alerts.service import open_alert, resolve_alert
from app.coverage.days import day_bounds, days, local_today, required
from app.db import UTCDateTime
from app.objectives.models import Objective
from app.planning.daysoff import NO_DAYS_OFF, DaysOff, days_off
from app.posts.models import Delivery, DeliveryStatus, Post, PostKind, PostState, post_objectives

COVERAGE_KINDS = (AlertKind.objective_uncovered, AlertKind.objective_missed)
# Ended days looked at again by each check, so a late retry that publishes resolves
# its "missed" alert, and a check after downtime still notices the days it missed.
MISSED_LOOKBACK_DAYS = 3


@dataclass(frozen=True)
class Counts:
    planned: int = 0
    published: int = 0
    failed: int = 0
    planned_ids: tuple[str, ...] = ()
    published_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cell:
    objective_id: str
    day: date
    required: int
    planned: int
    published: int
    failed: int
    ended: bool
    planned_ids: tuple[str, ...] = ()
    published_ids: tuple[str, ...] = ()

    @property
    def covered(self) -> bool:
        """A day to come is covered by what is planned; an ended one by what went out."""
        return (self.published if self.ended else self.planned) >= self.required


def _local_day(
    session: Session, objectives: Sequence[Objective], low: datetime, high: datetime
) -> ColumnElement[Any]:
    """The local calendar day of Post.scheduled_at in its objective's time zone, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(Objective.timezone, Post.scheduled_at), Date)
    # SQLite has no time zone database: shift by the zone's UTC offset, which is
    # constant between the few daylight-saving changes inside [low, high).
    by_zone = []
    for zone in sorted({o.timezone for o in objectives}):
        spans = offset_spans(zone, low, high)
        last: Any = literal(_modifier(spans[-1][1]))
        shift = (
            case(
                *[
                    (Post.scheduled_at < literal(next_start, UTCDateTime()), _modifier(offset))
                    for (_, offset), (next_start, _) in pairwise(spans)
                ],
                else_=last,
            )
            if len(spans) > 1
            else last
        )
        by_zone.append((Objective.timezone == zone, shift))
    return func.date(Post.scheduled_at, case(*by_zone))


def _modifier(offset: int) -> str:
    return f"{offset:+d} seconds"


def offset_spans(zone: str, low: datetime, high: datetime) -> list[tuple[datetime, int]]:
    """[(from, utc offset in seconds)] covering [low, high): one span per offset change."""
    tz = ZoneInfo(zone)

    def offset(at: datetime) -> int:
        delta = at.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    spans = [(low, offset(low))]
    at = low
    while at < high:
        step = min(at + timedelta(days=1), high)
        if offset(step) != spans[-1][1]:
            # Narrow the change down to the second.
            before, after = at, step
            while (after - before) > timedelta(seconds=1):
                middle = before + (after - before) / 2
                if offset(middle) == spans[-1][1]:
                    before = middle
                else:
                    after = middle
            spans.append((after, offset(after)))
        at = step
    return spans


def counts(
    session: Session,
    objectives: Sequence[Objective],
    start: date,
    end: date,
    *,
    with_ids: bool = False,
) -> dict[tuple[str, date], Counts]:
    """Planned, published and failed posts per (objective, local day) from start to end."""
    if not objectives:
        return {}
    low = min(day_bounds(start, o.timezone)[0] for o in objectives)
    high = max(day_bounds(end, o.timezone)[1] for o in objectives)
    per_post = _per_post(
        _local_day(session, objectives, low, high),
        post_objectives.c.objective_id.in_([o.id for o in objectives]),
        Post.scheduled_at >= low,
        Post.scheduled_at < high,
        by_zone=True,
    )
    return _summed(session, per_post, with_ids=with_ids)


# Above this many objective-days, one window query beats a condition per day (and
# stays clear of SQLite's expression depth limit).
PRECISE_DAYS = 32


def counts_on(
    session: Session, objectives: Sequence[Objective], wanted: Iterable[tuple[str, date]]
) -> dict[tuple[str, date], Counts]:
    """Counts for just these (objective id, local day) pairs, in one grouped query."""
    by_id = {o.id: o for o in objectives}
    pairs = sorted({(oid, day) for oid, day in wanted if oid in by_id})
    if len(pairs) > PRECISE_DAYS:
        found = counts(session, objectives, min(d for _, d in pairs), max(d for _, d in pairs))
        return {pair: found[pair] for pair in pairs if pair in found}
    if not pairs:
        return {}
    if len(pairs) == 1:
        # The common case (one post, one objective): a statement built once.
        oid, day = pairs[0]
        low, high = day_bounds(day, by_id[oid].timezone)
        params = {"oid": oid, "day": day.isoformat(), "low": low, "high": high}
        return _read_counts(session, _one_day_query(), params)
    # Each pair is one local day of one objective: its UTC bounds say which day a post
    # falls on, so no time zone arithmetic is needed in SQL.
    spans = []
    for oid, day in pairs:
        low, high = day_bounds(day, by_id[oid].timezone)
        spans.append(
            (
                and_(
                    post_objectives.c.objective_id == oid,
                    Post.scheduled_at >= low,
                    Post.scheduled_at < high,
                ),
                literal(day.isoformat()),
            )
        )
    day_of = case(*spans)
    return _summed(session, _per_post(day_of, or_(*(cond for cond, _ in spans))))


def _per_post(day: ColumnElement[Any], *where: ColumnElement[bool], by_zone: bool = False) -> Any:
    """One row per (objective, post) with flags over its deliveries: joins and grouping
    the database does in bulk, not a look-up per post. `by_zone`: the day expression
    reads the objective's time zone, so the objectives are joined."""
    active = Delivery.status.not_in([DeliveryStatus.failed, DeliveryStatus.cancelled])
    query = (
        select(
            post_objectives.c.objective_id,
            day.label("day"),
            Post.id.label("post_id"),
            func.max(case((active, 1), else_=0)).label("planned"),
            func.max(case((Delivery.status == DeliveryStatus.published, 1), else_=0)).label(
                "published"
            ),
            func.max(case((Delivery.status == DeliveryStatus.failed, 1), else_=0)).label("failed"),
        )
        .select_from(post_objectives)
        .join(Post, Post.id == post_objectives.c.post_id)
        .join(Delivery, Delivery.post_id == Post.id)
        .where(
            *where,
            Post.state == PostState.scheduled,
            Post.kind == PostKind.post,
        )
        .group_by(post_objectives.c.objective_id, "day", Post.id)
    )
    if by_zone:
        query = query.join(Objective, Objective.id == post_objectives.c.objective_id)
    return query.subquery()


@cache
def _one_day_query() -> Select[Any]:
    per_post = _per_post(
        bindparam("day", type_=String()),
        post_objectives.c.objective_id == bindparam("oid"),
        Post.scheduled_at >= bindparam("low", type_=UTCDateTime()),
        Post.scheduled_at < bindparam("high", type_=UTCDateTime()),
    )
    return _sums(per_post)


def _summed(
    session: Session, per_post: Any, *, with_ids: bool = False
) -> dict[tuple[str, date], Counts]:
    """The per-post rows summed per (objective, day)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    concat = (func.string_agg if postgres else func.group_concat) if with_ids else None
    return _read_counts(session, _sums(per_post, concat=concat))


def _sums(per_post: Any, *, concat: Any = None) -> Select[Any]:
    """Sum the per-post rows per (objective, day); with `concat`, list the post ids too."""
    columns: list[Any] = [
        per_post.c.objective_id,
        per_post.c.day,
        func.sum(per_post.c.planned).label("planned"),
        func.sum(per_post.c.published).label("published"),
        func.sum(per_post.c.failed).label("failed"),
    ]
    if concat is not None:
        columns += [
            concat(case((per_post.c.planned == 1, per_post.c.post_id)), ",").label("planned_ids"),
            concat(case((per_post.c.published == 1, per_post.c.post_id)), ",").label(
                "published_ids"
            ),
        ]
    return select(*columns).group_by(per_post.c.objective_id, per_post.c.day)


def _read_counts(
    session: Session, query: Select[Any], params: dict[str, Any] | None = None
) -> dict[tuple[str, date], Counts]:
    if params is None and session.get_bind().dialect.name == "postgresql":
        # Grouping a few hundred thousand rows sorts in memory, not on disk (this
        # transaction only; one objective-day needs none of it).
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    result: dict[tuple[str, date], Counts] = {}
    for row in session.execute(query, params):
        local = row.day if isinstance(row.day, date) else date.fromisoformat(row.day)
        result[(row.objective_id, local)] = Counts(
            planned=int(row.planned or 0),
            published=int(row.published or 0),
            failed=int(row.failed or 0),
            planned_ids=_ids(getattr(row, "planned_ids", None)),
            published_ids=_ids(getattr(row, "published_ids", None)),
        )
    return result


def _ids(joined: str | None) -> tuple[str, ...]:
    return tuple(sorted(joined.split(","))) if joined else ()


def cell(
    objective: Objective, day: date, found: Counts, *, now: datetime, off: DaysOff = NO_DAYS_OFF
) -> Cell:
    return Cell(
        objective_id=objective.id,
        day=day,
        # planning: a blackout day requires nothing.
        required=0 if (objective.id, day) in off else required(objective, day),
        planned=found.planned,
        published=found.published,
        failed=found.failed,
        ended=day < local_today(now, objective.timezone),
        planned_ids=found.planned_ids,
        published_ids=found.published_ids,
    )


def cells(
    session: Session,
    objectives: Sequence[Objective],
    start: date,
    end: date,
    *,
    now: datetime,
    with_ids: bool = False,
) -> list[Cell]:
    found = counts(session, objectives, start, end, with_ids=with_ids)
    off = days_off(session, [o.id for o in objectives], start, end)
    return [
        cell(objective, day, found.get((objective.id, day), Counts()), now=now, off=off)
        for objective in objectives
        for day in days(start, end)
    ]


@dataclass
class CheckResult:
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


# (kind, objective id, local day): one coverage alert's subject.
AlertKey = tuple[AlertKind, str, date]


def _label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _verdict(
    cell: Cell, objective: Objective, *, now: datetime, lookahead_days: int
) -> tuple[AlertKey, str | None] | None:
    """The alert a cell calls for: its key and message, None as message when the day is
    fine, or no verdict at all when the day is outside what the check looks at."""
    today = local_today(now, objective.timezone)
    if today <= cell.day < today + timedelta(days=lookahead_days):
        if cell.planned >= cell.required:
            return (AlertKind.objective_uncovered, objective.id, cell.day), None
        return (AlertKind.objective_uncovered, objective.id, cell.day), (
            f"{'No post' if cell.planned == 0 else 'Not enough posts'} planned for "
            f"*{objective.name}* on {_label(cell.day)} — {cell.planned} of {cell.required}"
        )
    if today - timedelta(days=MISSED_LOOKBACK_DAYS) <= cell.day < today:
        if cell.published >= cell.required:
            return (AlertKind.objective_missed, objective.id, cell.day), None
        return (AlertKind.objective_missed, objective.id, cell.day), (
            f"*{objective.name}* was missed on {_label(cell.day)} — "
            f"{cell.published} of {cell.required} published"
        )
    return None


def _verdicts(
    found: Iterable[Cell], by_id: dict[str, Objective], *, now: datetime, lookahead_days: int
) -> dict[AlertKey, str | None]:
    out: dict[AlertKey, str | None] = {}
    for c in found:
        verdict = _verdict(c, by_id[c.objective_id], now=now, lookahead_days=lookahead_days)
        if verdict is not None:
            out[verdict[0]] = verdict[1]
    return out


def _open_alert_keys(session: Session, objective_ids: Iterable[str]) -> set[AlertKey]:
    rows = session.execute(
        select(Alert.kind, Alert.objective_id, Alert.day).where(
            Alert.kind.in_(COVERAGE_KINDS),
            Alert.resolved_at.is_(None),
            Alert.objective_id.in_(list(objective_ids)),
        )
    ).all()
    # Coverage alerts always have an objective and a day.
    return {(AlertKind(kind), oid, day) for kind, oid, day in rows if oid and day}


def _settle(
    session: Session,
    verdicts: dict[AlertKey, str | None],
    by_id: dict[str, Objective],
    *,
    now: datetime,
) -> CheckResult:
    """Resolve the open alerts whose day is now fine or over, open the ones called for."""
    result = CheckResult()
    already_open = _open_alert_keys(session, by_id)
    for key in sorted(already_open, key=lambda k: (k[1], k[2], k[0])):
        kind, objective_id, day = key
        # Past days' "uncovered" alerts end with the day: "missed" takes over.
        stale = kind == AlertKind.objective_uncovered and day < local_today(
            now, by_id[objective_id].timezone
        )
        if stale or (key in verdicts and verdicts[key] is None):
            resolved = resolve_alert(session, kind=kind, key=f"{objective_id}:{day}", now=now)
            if resolved:
                result.resolved.append(resolved)
    for (kind, objective_id, day), message in verdicts.items():
        if message is None or (kind, objective_id, day) in already_open:
            continue
        opened = open_alert(
            session,
            kind=kind,
            key=f"{objective_id}:{day}",
            message=message,
            now=now,
            objective_id=objective_id,
            day=day,
        )
        if opened:
            result.opened.append(opened)
    return result


def _known_objectives(session: Session, ids: set[str]) -> list[Objective]:
    """The objectives, from the session's identity map when there (a post just written
    holds its own), else read."""
    known = [o for o in (session.get(Objective, i) for i in ids) if o is not None]
    return sorted(known, key=lambda o: (o.name, o.id))


def _objectives(session: Session, ids: Iterable[str] | None) -> list[Objective]:
    query = select(Objective)
    if ids is not None:
        query = query.where(Objective.id.in_(list(ids)))
    return list(session.scalars(query.order_by(Objective.name)))


def check_window(
    objectives: Sequence[Objective], *, now: datetime, lookahead_days: int
) -> tuple[date, date]:
    """The days the check looks at, over every objective's time zone: the missed
    lookback before today to the end of the lookahead."""
    todays = [local_today(now, o.timezone) for o in objectives]
    start = min(todays) - timedelta(days=MISSED_LOOKBACK_DAYS)
    return start, max(todays) + timedelta(days=max(lookahead_days - 1, 0))


def check(
    session: Session,
    *,
    now: datetime,
    lookahead_days: int,
    objective_ids: Iterable[str] | None = None,
) -> CheckResult:
    """Open and resolve coverage alerts; safe to run in any number of processes at once.

    Days to come (today and the lookahead) with planned < required open
    `objective_uncovered`; ended days with published < required open
    `objective_missed`. Each resolves by itself when its condition ends.
    """
    objectives = _objectives(session, objective_ids)
    if not objectives:
        return CheckResult()
    by_id = {o.id: o for o in objectives}
    start, end = check_window(objectives, now=now, lookahead_days=lookahead_days)
    found = cells(session, objectives, start, end, now=now)
    verdicts = _verdicts(found, by_id, now=now, lookahead_days=lookahead_days)
    return _settle(session, verdicts, by_id, now=now)


def gaps(session: Session, *, now: datetime, days_ahead: int) -> list[Cell]:
    """Uncovered objective-days from today on, soonest first."""
    objectives = list(
        session.scalars(
            select(Objective).where(Objective.archived.is_(False)).order_by(Objective.name)
        )
    )
    if not objectives:
        return []
    start = min(local_today(now, o.timezone) for o in objectives)
    end = max(local_today(now, o.timezone) for o in objectives) + timedelta(
        days=max(days_ahead - 1, 0)
    )
    found = [
        c
        for c in cells(session, objectives, start, end, now=now)
        if not c.ended and c.planned < c.required
    ]
    return sorted(found, key=lambda c: (c.day, c.objective_id))


def objectives_of_posts(session: Session, post_ids: Iterable[str]) -> list[str]:
    ids = list(post_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(post_objectives.c.objective_id)
            .where(post_objectives.c.post_id.in_(ids))
            .distinct()
        )
    )


def effect(
    session: Session,
    *,
    touched: Iterable[tuple[str, datetime | None]],
    now: datetime,
    lookahead_days: int,
) -> list[Cell]:
    """After posts were created, moved or cancelled: the objective-days they touched, as
    they stand now, with their alerts opened or resolved at once. `touched` pairs an
    objective id with a post's time, old and new. Only those days are counted (in one
    grouped query): the other days' counts did not change."""
    pairs = {(oid, at) for oid, at in touched if at is not None}
    if not pairs:
        return []
    by_id = {o.id: o for o in _known_objectives(session, {oid for oid, _ in pairs})}
    wanted = {
        (oid, at.astimezone(ZoneInfo(by_id[oid].timezone)).date())
        for oid, at in pairs
        if oid in by_id
    }
    found = counts_on(session, list(by_id.values()), wanted)
    off = (
        days_off(session, by_id, min(d for _, d in wanted), max(d for _, d in wanted))
        if wanted
        else NO_DAYS_OFF
    )
    out = [
        cell(by_id[oid], day, found.get((oid, day), Counts()), now=now, off=off)
        for oid, day in sorted(wanted, key=lambda pair: (pair[1], by_id[pair[0]].name))
    ]
    verdicts = _verdicts(out, by_id, now=now, lookahead_days=lookahead_days)
    _settle(session, verdicts, by_id, now=now)
    return out
