"""Champions: who published most in an ISO week, and the weekly Twophy.

A person's week (in CADENCE_TIMEZONE): the posts they authored that went out then
(a delivery published inside the week; alerts and cancelled posts never count), the
distinct objective-days those posts covered (the post's local day, per objective),
and how many of their posts were submitted for approval, approved and rejected.
Ranked by posts published, then objective-days, then e-mail (a stable tie-break).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import FieldProblem, InvalidInput
from app.posts.models import Delivery, DeliveryStatus, Post, PostKind, PostState, post_objectives
from app.team.audit import Action, Subject
from app.team.models import AuditEntry
from app.users.models import User

# [0-9], not \d: \d also matches other scripts' digits (fullwidth, Arabic-Indic...).
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")


def _bad_week(message: str) -> InvalidInput:
    return InvalidInput([FieldProblem(("query", "week"), message)])


def parse_week(value: str) -> date:
    """The Monday of an ISO week written `YYYY-Www`; 422 naming `week` otherwise."""
    found = _WEEK.fullmatch(value)
    if found is None:
        raise _bad_week("give an ISO week as YYYY-Www, e.g. 2026-W48")
    try:
        return date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        raise _bad_week(f"{value} is not a week of that year") from None


def week_name(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(at: datetime, zone: str) -> date:
    local = at.astimezone(ZoneInfo(zone)).date()
    return local - timedelta(days=local.weekday())


def bounds(monday: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    start = datetime.combine(monday, time(0), tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tz)
    return start, end


@dataclass
class Standing:
    user_id: str
    email: str = ""
    display_name: str = ""
    published: int = 0
    objective_days: int = 0
    submitted: int = 0
    approved: int = 0
    rejected: int = 0
    days: set[tuple[str, date]] = field(default_factory=set)


def _published(
    session: Session, rows: dict[str, Standing], start: datetime, end: datetime, zone: str
) -> None:
    posts = session.execute(
        select(Post.id, Post.created_by_id, Post.scheduled_at)
        .where(
            Post.kind == PostKind.post,
            Post.state != PostState.cancelled,
            Post.created_by_id.is_not(None),
            Post.id.in_(
                select(Delivery.post_id).where(
                    Delivery.status == DeliveryStatus.published,
                    Delivery.published_at >= start,
                    Delivery.published_at < end,
                )
            ),
        )
        .order_by(Post.id)
    ).all()
    author: dict[str, str] = {post_id: user_id for post_id, user_id, _ in posts if user_id}
    for user_id in author.values():
        rows.setdefault(user_id, Standing(user_id)).published += 1
    tz = ZoneInfo(zone)
    when = {post_id: at for post_id, _, at in posts}
    for post_id, objective_id in session.execute(
        select(post_objectives.c.post_id, post_objectives.c.objective_id).where(
            post_objectives.c.post_id.in_(list(author))
        )
    ):
        at = when[post_id]
        if at is not None:
            rows[author[post_id]].days.add((objective_id, at.astimezone(tz).date()))


def _reviews(session: Session, rows: dict[str, Standing], start: datetime, end: datetime) -> None:
    entries = session.execute(
        select(AuditEntry.action, AuditEntry.subject_id).where(
            AuditEntry.subject_type == Subject.post.value,
            AuditEntry.action.in_([Action.submit.value, Action.approve.value, Action.reject.value]),
            AuditEntry.at >= start,
            AuditEntry.at < end,
        )
    ).all()
    ids = {subject for _, subject in entries}
    author = dict(
        session.execute(
            select(Post.id, Post.created_by_id).where(
                Post.id.in_(ids), Post.kind == PostKind.post, Post.created_by_id.is_not(None)
            )
        ).all()
    )
    for action, subject in entries:
        user_id = author.get(subject)
        if user_id is None:
            continue
        row = rows.setdefault(user_id, Standing(user_id))
        if action == Action.submit:
            row.submitted += 1
        elif action == Action.approve:
            row.approved += 1
        else:
            row.rejected += 1


def standings(session: Session, *, monday: date, zone: str) -> list[Standing]:
    start, end = bounds(monday, zone)
    rows: dict[str, Standing] = {}
    _published(session, rows, start, end, zone)
    _reviews(session, rows, start, end)
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(rows))))}
    ranked = []
    for row in rows.values():
        person = people.get(row.user_id)
        if person is None:
            continue
        row.email = person.email
        row.display_name = person.name or person.email.split("@")[0]
        row.objective_days = len(row.days)
        ranked.append(row)
    ranked.sort(key=lambda r: (-r.published, -r.objective_days, r.email))
    return ranked
