"""Blackout days: coverage asks for nothing on them, globally or for one objective
(public holidays, a period of mourning). Posts may still be scheduled into one; the
answer then carries a warning, and the calendar shows the day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from app.coverage import service as coverage
from app.errors import FieldProblem, InvalidInput, NotFound
from app.objectives.models import Objective
from app.planning.daysoff import days_off
from app.planning.models import Blackout
from app.planning.schemas import BlackoutIn
from app.users.models import User


def warnings(
    session: Session, objective_ids: Sequence[str], scheduled_at: datetime | None
) -> list[str]:
    """What an answer says of a post scheduled into a blackout (it is not refused)."""
    if scheduled_at is None or not objective_ids:
        return []
    out = []
    for objective in (session.get(Objective, i) for i in objective_ids):
        if objective is None:
            continue
        day = scheduled_at.astimezone(ZoneInfo(objective.timezone)).date()
        reason = days_off(session, [objective.id], day, day).reason(objective.id, day)
        if reason is not None:
            out.append(f"{day.isoformat()} is a blackout day for {objective.name!r}: {reason}")
    return out


# PostgreSQL advisory lock key of "a blackout is being added" (any fixed number: no
# other advisory lock of this app uses it: see app/publishing/claims.py, app/migrate.py).
BLACKOUT_LOCK = 0x43414442  # "CADB"


def _lock(session: Session) -> None:
    """Two overlapping blackouts added at once must not both pass the overlap check:
    on PostgreSQL the check and the insert run under a transaction-scoped advisory
    lock (a new row has no row to lock); SQLite's writers take turns already (every
    write transaction begins IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BLACKOUT_LOCK})


def create(
    session: Session, *, data: BlackoutIn, user: User, now: datetime, lookahead_days: int
) -> Blackout:
    problems = []
    if data.date_to < data.date_from:
        problems.append(FieldProblem(("body", "date_to"), "must be on or after date_from"))
    if data.objective_id is not None and session.get(Objective, data.objective_id) is None:
        problems.append(
            FieldProblem(("body", "objective_id"), f"objective {data.objective_id} not found")
        )
    if problems:
        raise InvalidInput(problems)
    _lock(session)
    same_scope = (
        Blackout.objective_id.is_(None)
        if data.objective_id is None
        else Blackout.objective_id == data.objective_id
    )
    clash = session.scalars(
        select(Blackout).where(
            same_scope, Blackout.date_from <= data.date_to, Blackout.date_to >= data.date_from
        )
    ).first()
    if clash is not None:
        raise InvalidInput(
            [
                FieldProblem(
                    ("body", "date_from"),
                    f"overlaps blackout {clash.id} ({clash.date_from} to {clash.date_to})",
                )
            ]
        )
    blackout = Blackout(
        date_from=data.date_from,
        date_to=data.date_to,
        objective_id=data.objective_id,
        reason=data.reason,
        created_by_id=user.id,
        created_at=now,
    )
    session.add(blackout)
    session.flush()
    _recheck(session, blackout, now=now, lookahead_days=lookahead_days)
    return blackout


def _recheck(session: Session, blackout: Blackout, *, now: datetime, lookahead_days: int) -> None:
    """Open or resolve the coverage alerts of the days at once."""
    ids = None if blackout.objective_id is None else [blackout.objective_id]
    coverage.check(session, now=now, lookahead_days=lookahead_days, objective_ids=ids)


def delete(session: Session, *, blackout_id: str, now: datetime, lookahead_days: int) -> Blackout:
    blackout = session.get(Blackout, blackout_id)
    if blackout is None:
        raise NotFound("blackout", blackout_id)
    session.delete(blackout)
    session.flush()
    _recheck(session, blackout, now=now, lookahead_days=lookahead_days)
    return blackout


def list_(
    session: Session,
    *,
    objective_id: str | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> tuple[list[Blackout], int]:
    query = select(Blackout)
    if objective_id is not None:
        query = query.where(
            or_(Blackout.objective_id.is_(None), Blackout.objective_id == objective_id)
        )
    if start is not None:
        query = query.where(Blackout.date_to >= start)
    if end is not None:
        query = query.where(Blackout.date_from <= end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Blackout.date_from, Blackout.id).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def on_days(
    session: Session, start: date, end: date, names: dict[str, str]
) -> dict[date, list[str]]:
    """For the calendar: each blacked-out day's lines ("Every objective: reason")."""
    rows = session.scalars(
        select(Blackout)
        .where(Blackout.date_from <= end, Blackout.date_to >= start)
        .order_by(Blackout.date_from, Blackout.id)
    ).all()
    out: dict[date, list[str]] = {}
    for row in rows:
        who = "every objective" if row.objective_id is None else names.get(row.objective_id, "?")
        line = f"{who}: {row.reason}" if row.reason else who
        day = max(row.date_from, start)
        while day <= min(row.date_to, end):
            out.setdefault(day, []).append(line)
            day += timedelta(days=1)
    return out
