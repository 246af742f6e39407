"""Coverage: how many posts serve each objective on each local day, and the alerts
that follow from it. Counted with one grouped query, never by loading posts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, case, cast, func, literal, select, text
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertKind
from app.alerts.service import open_alert, resolve_alert
from app.coverage.days import day_bounds, days, local_today, required
from app.db import UTCDateTime
from app.objectives.models import Objective
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
    # One row per (objective, post) with flags over its deliveries, then summed per day:
    # joins and grouping the database does in bulk, not a look-up per post.
    active = Delivery.status.not_in([DeliveryStatus.failed, DeliveryStatus.cancelled])
    per_post = (
        select(
            post_objectives.c.objective_id,
            _local_day(session, objectives, low, high).label("day"),
            Post.id.label("post_id"),
            func.max(case((active, 1), else_=0)).label("planned"),
            func.max(case((Delivery.status == DeliveryStatus.published, 1), else_=0)).label(
                "published"
            ),
            func.max(case((Delivery.status == DeliveryStatus.failed, 1), else_=0)).label("failed"),
        )
        .select_from(post_objectives)
        .join(Post, Post.id == post_objectives.c.post_id)
        .join(Objective, Objective.id == post_objectives.c.objective_id)
        .join(Delivery, Delivery.post_id == Post.id)
        .where(
            post_objectives.c.objective_id.in_([o.id for o in objectives]),
            Post.state == PostState.scheduled,
            Post.kind == PostKind.post,
            Post.scheduled_at >= low,
            Post.scheduled_at < high,
        )
        .group_by(post_objectives.c.objective_id, "day", Post.id)
        .subquery()
    )
    columns: list[Any] = [
        per_post.c.objective_id,
        per_post.c.day,
        func.sum(per_post.c.planned).label("planned"),
        func.sum(per_post.c.published).label("published"),
        func.sum(per_post.c.failed).label("failed"),
    ]
    if with_ids:
        concat = (
            func.string_agg
            if session.get_bind().dialect.name == "postgresql"
            else func.group_concat
        )
        columns += [
            concat(case((per_post.c.planned == 1, per_post.c.post_id)), ",").label("planned_ids"),
            concat(case((per_post.c.published == 1, per_post.c.post_id)), ",").label(
                "published_ids"
            ),
        ]
    query = select(*columns).group_by(per_post.c.objective_id, per_post.c.day)
    if session.get_bind().dialect.name == "postgresql":
        # Grouping a few hundred thousand rows sorts in memory, not on disk (this
        # transaction only).
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    result: dict[tuple[str, date], Counts] = {}
    for row in session.execute(query):
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
    out = []
    for objective in objectives:
        today = local_today(now, objective.timezone)
        for day in days(start, end):
            c = found.get((objective.id, day), Counts())
            out.append(
                Cell(
                    objective_id=objective.id,
                    day=day,
                    required=required(objective, day),
                    planned=c.planned,
                    published=c.published,
                    failed=c.failed,
                    ended=day < today,
                    planned_ids=c.planned_ids,
                    published_ids=c.published_ids,
                )
            )
    return out


@dataclass
class CheckResult:
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


def _label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


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
    query = select(Objective)
    if objective_ids is not None:
        query = query.where(Objective.id.in_(list(objective_ids)))
    objectives = list(session.scalars(query.order_by(Objective.name)))
    result = CheckResult()
    if not objectives:
        return result
    # One grouped query over the widest window any time zone needs.
    reference = min(local_today(now, o.timezone) for o in objectives)
    start = reference - timedelta(days=MISSED_LOOKBACK_DAYS)
    end = max(local_today(now, o.timezone) for o in objectives) + timedelta(
        days=max(lookahead_days - 1, 0)
    )
    wanted: dict[tuple[AlertKind, str, date], str] = {}
    looked_at: set[tuple[AlertKind, str, date]] = set()
    by_id = {o.id: o for o in objectives}
    for cell in cells(session, objectives, start, end, now=now):
        objective = by_id[cell.objective_id]
        today = local_today(now, objective.timezone)
        if today <= cell.day < today + timedelta(days=lookahead_days):
            key = (AlertKind.objective_uncovered, objective.id, cell.day)
            looked_at.add(key)
            if cell.planned < cell.required:
                wanted[key] = (
                    f"{'No post' if cell.planned == 0 else 'Not enough posts'} planned for "
                    f"*{objective.name}* on {_label(cell.day)} — {cell.planned} of {cell.required}"
                )
        elif today - timedelta(days=MISSED_LOOKBACK_DAYS) <= cell.day < today:
            key = (AlertKind.objective_missed, objective.id, cell.day)
            looked_at.add(key)
            if cell.published < cell.required:
                wanted[key] = (
                    f"*{objective.name}* was missed on {_label(cell.day)} — "
                    f"{cell.published} of {cell.required} published"
                )

    open_alerts = session.execute(
        select(Alert.kind, Alert.objective_id, Alert.day).where(
            Alert.kind.in_(COVERAGE_KINDS),
            Alert.resolved_at.is_(None),
            Alert.objective_id.in_(list(by_id)),
        )
    ).all()
    for kind, objective_id, day in open_alerts:
        if objective_id is None or day is None:
            continue  # coverage alerts always have both
        key = (AlertKind(kind), objective_id, day)
        today = local_today(now, by_id[objective_id].timezone)
        # Past days' "uncovered" alerts end with the day: "missed" takes over.
        stale = kind == AlertKind.objective_uncovered and day < today
        if stale or (key in looked_at and key not in wanted):
            resolved = resolve_alert(session, kind=key[0], key=f"{objective_id}:{day}", now=now)
            if resolved:
                result.resolved.append(resolved)
    for (kind, objective_id, day), message in wanted.items():
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
    """After a post was created, moved or cancelled: re-check its objectives at once
    (opening or resolving alerts) and return the objective-days it touched, as they
    stand now. `touched` pairs an objective id with the post's time, old and new."""
    pairs = {(oid, at) for oid, at in touched if at is not None}
    if not pairs:
        return []
    objective_ids = {oid for oid, _ in pairs}
    check(session, now=now, lookahead_days=lookahead_days, objective_ids=objective_ids)
    objectives = {
        o.id: o for o in session.scalars(select(Objective).where(Objective.id.in_(objective_ids)))
    }
    wanted = sorted(
        {
            (oid, at.astimezone(ZoneInfo(objectives[oid].timezone)).date())
            for oid, at in pairs
            if oid in objectives
        },
        key=lambda pair: (pair[1], objectives[pair[0]].name),
    )
    out = []
    for oid, day in wanted:
        out += cells(session, [objectives[oid]], day, day, now=now)
    return out
