"""The weekly Twophy: every Monday at CADENCE_TWOPHY_AT (in CADENCE_TIMEZONE) last
week's champion is announced to the internal channels that receive alerts.

Exactly once across processes: the award's primary key is the week, so only the
process whose INSERT lands writes the announcement, and the announcement is a post
(kind "alert"), sent by the publishing engine with its exactly-once care. A process
that was down on Monday announces later that week; a week nobody published in is
recorded with no winner and announces nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alerts.announce import queue_announcement
from app.team.leaderboard import Standing, standings, week_name
from app.team.models import TwophyAward
from app.users.models import User

TWOPHY_INTERVAL_SECONDS = 60.0


def week_due(now: datetime, *, zone: str, at: str) -> date | None:
    """The Monday of the week whose Twophy is due now: last week, once this Monday's
    announcement time has passed."""
    local = now.astimezone(ZoneInfo(zone))
    monday = local.date() - timedelta(days=local.weekday())
    hour, minute = (int(part) for part in at.split(":"))
    if local < datetime.combine(monday, time(hour, minute), local.tzinfo):
        return None
    return monday - timedelta(days=7)


def _message(week: str, winner: Standing, base_url: str) -> str:
    posts = f"{winner.published} post{'s' if winner.published != 1 else ''}"
    days = f"{winner.objective_days} objective-day{'s' if winner.objective_days != 1 else ''}"
    return (
        f"🏆 The Twophy for {week} goes to {winner.display_name} ({winner.email}): "
        f"{posts} published, {days} covered. Thank you!\n{base_url.rstrip('/')}/champions"
    )


def _announce(session: Session, award: str, text: str, *, now: datetime, base_url: str) -> str:
    return queue_announcement(
        session,
        text=text,
        title=f"Twophy {award}",
        link=f"{base_url.rstrip('/')}/champions",
        now=now,
        internal_channels_only=True,
    )


def award_due(
    session: Session, *, now: datetime, zone: str, at: str, base_url: str
) -> TwophyAward | None:
    """Make the award due now unless another process made it; return it if made here."""
    monday = week_due(now, zone=zone, at=at)
    if monday is None:
        return None
    week = week_name(monday)
    if session.get(TwophyAward, week) is not None:
        return None
    ranked = standings(session, monday=monday, zone=zone)
    winner = ranked[0] if ranked and ranked[0].published > 0 else None
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    made = session.scalar(
        insert(TwophyAward)
        .values(
            week=week,
            user_id=winner.user_id if winner else None,
            published=winner.published if winner else 0,
            awarded_at=now,
        )
        .on_conflict_do_nothing(index_elements=["week"])
        .returning(TwophyAward.week)
    )
    if made is None:
        return None  # another process awarded it first
    award = session.get(TwophyAward, week)
    if award is not None and winner is not None:
        award.post_id = _announce(
            session, week, _message(week, winner, base_url), now=now, base_url=base_url
        )
        session.flush()
    return award


def awards(session: Session, *, limit: int = 10) -> list[tuple[TwophyAward, str | None]]:
    """The latest awards with their winners' e-mails, newest first."""
    rows = session.execute(
        select(TwophyAward, User.email)
        .outerjoin(User, User.id == TwophyAward.user_id)
        .order_by(TwophyAward.week.desc())
        .limit(limit)
    ).all()
    return [(award, email) for award, email in rows]


def badges(session: Session, user_id: str) -> list[str]:
    """The weeks this person won the Twophy, newest first."""
    return list(
        session.scalars(
            select(TwophyAward.week)
            .where(TwophyAward.user_id == user_id)
            .order_by(TwophyAward.week.desc())
        )
    )


def digest_line(session: Session, start: date, end: date, zone: str) -> str | None:
    """The weekly digest's champion line (its CHAMPION_HOOKS entry): the award already
    made for the week if there is one, else the week's standings, ranked as the award
    ranks them (the digest may go out before the Twophy's own announcement time)."""
    del end  # a week is named by its Monday
    week = week_name(start)
    award = session.get(TwophyAward, week)
    if award is not None:
        person = session.get(User, award.user_id) if award.user_id else None
        if person is None:
            return None
        name = person.name or person.email.split("@")[0]
        posts = award.published
    else:
        ranked = standings(session, monday=start, zone=zone)
        if not ranked or ranked[0].published == 0:
            return None
        name, posts = ranked[0].display_name, ranked[0].published
    return f"Twophy champion of {week}: {name} ({posts} post{'s' if posts != 1 else ''} published)"
