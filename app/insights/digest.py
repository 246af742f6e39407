"""The weekly digest: last week's coverage per objective (days covered, days missed),
its top posts per objective, and the clicks on internal channels; sent on Mondays at
CADENCE_DIGEST_AT (local, CADENCE_TIMEZONE) to the channels that receive alerts.

Like an alert announcement, the digest is a post (kind "alert": internal, never on
the calendar or in the reports) with one delivery per alert channel, so the
publishing engine sends it with its exactly-once care. The `digests` row for the week
is inserted in the same transaction, ON CONFLICT DO NOTHING: however many processes
try, one digest a week is made.

The week's Twophy champion belongs to the team feature: it adds its line through
CHAMPION_HOOKS (each gets the session, the week and the time zone, and answers a line
or None); app.team.twophy.digest_line is registered there.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alerts.announce import queue_announcement
from app.channels.models import Channel
from app.config import Settings
from app.coverage.service import cells
from app.db import transaction
from app.insights import engagement
from app.insights.models import Digest
from app.objectives.models import Objective
from app.runtime import Runtime
from app.team import twophy

log = logging.getLogger(__name__)

TOP_POSTS = 3
# The team feature's hook: (session, week start, week end, time zone) -> a line, or None.
ChampionHook = Callable[[Session, date, date, str], str | None]
CHAMPION_HOOKS: list[ChampionHook] = [twophy.digest_line]


@dataclass(frozen=True)
class ObjectiveWeek:
    name: str
    required_days: int
    covered_days: int
    missed: list[date]
    top: list[engagement.PostFigures]


@dataclass
class DigestContent:
    start: date  # Monday
    end: date  # Sunday
    objectives: list[ObjectiveWeek] = field(default_factory=list)
    internal_clicks: list[tuple[str, int]] = field(default_factory=list)  # (channel, clicks)
    extra: list[str] = field(default_factory=list)  # lines from CHAMPION_HOOKS

    @property
    def total_internal_clicks(self) -> int:
        return sum(n for _, n in self.internal_clicks)


def last_week(today: date) -> date:
    """The Monday of the week before the one `today` is in."""
    return today - timedelta(days=today.weekday() + 7)


def due_week(now: datetime, settings: Settings) -> date | None:
    """The week whose digest is due at `now`: last week's, once this week's Monday at
    CADENCE_DIGEST_AT has passed (so a process started later in the week still sends
    it); None before that."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    hours, minutes = (int(part) for part in settings.digest_at.split(":"))
    if local < datetime.combine(monday, time(hours, minutes), tzinfo=zone):
        return None
    return monday - timedelta(days=7)


def content(session: Session, start: date, *, now: datetime, zone: str) -> DigestContent:
    end = start + timedelta(days=6)
    digest = DigestContent(start=start, end=end)
    objectives = list(
        session.scalars(
            select(Objective).where(Objective.archived.is_(False)).order_by(Objective.name)
        )
    )
    by_objective = defaultdict(list)
    for cell in cells(session, objectives, start, end, now=now):
        by_objective[cell.objective_id].append(cell)
    items = engagement.delivery_figures(session, start=start, end=end, zone=zone)
    tagged = engagement.objectives_of(session, (i.post_id for i in items))
    for objective in objectives:
        required = [c for c in by_objective[objective.id] if c.required > 0]
        mine = [i for i in items if objective.id in tagged.get(i.post_id, ())]
        digest.objectives.append(
            ObjectiveWeek(
                name=objective.name,
                required_days=len(required),
                covered_days=sum(1 for c in required if c.covered),
                missed=sorted(c.day for c in required if not c.covered),
                top=engagement.top_posts(engagement.per_post(mine), TOP_POSTS),
            )
        )
    internal = {
        c.id: c.name for c in session.scalars(select(Channel).where(Channel.audience == "internal"))
    }
    clicks: dict[str, int] = defaultdict(int)
    for item in items:
        if item.channel_id in internal:
            clicks[item.channel_id] += item.figures.clicks
    digest.internal_clicks = sorted(
        ((internal[c], n) for c, n in clicks.items()), key=lambda pair: (-pair[1], pair[0])
    )
    for hook in CHAMPION_HOOKS:
        line = hook(session, start, end, zone)
        if line:
            digest.extra.append(line)
    return digest


def title_of(digest: DigestContent) -> str:
    return f"Cadence weekly digest: {digest.start:%-d %b} to {digest.end:%-d %b %Y}"


def as_text(digest: DigestContent, *, link: str) -> str:
    """The digest as the plain text a chat channel or an e-mail gets."""
    lines = [title_of(digest), "", "Coverage:"]
    for week in digest.objectives:
        if not week.required_days:
            lines.append(f"- {week.name}: nothing required")
            continue
        missed = ", ".join(f"{d:%a %-d}" for d in week.missed) or "none"
        lines.append(
            f"- {week.name}: {week.covered_days} of {week.required_days} days covered; "
            f"missed: {missed}"
        )
    lines += ["", "Top posts:"]
    for week in digest.objectives:
        for post in week.top:
            lines.append(
                f"- {week.name}: {post.title} ({post.likes} likes, {post.reposts} reposts, "
                f"{post.replies} replies, {post.clicks} clicks)"
            )
    if not any(week.top for week in digest.objectives):
        lines.append("- nothing published")
    lines += ["", f"Clicks on internal channels: {digest.total_internal_clicks}"]
    lines += [f"- {name}: {n}" for name, n in digest.internal_clicks]
    if digest.extra:
        lines += ["", *digest.extra]
    lines += ["", f"The full digest: {link}"]
    return "\n".join(lines)


def send(session: Session, start: date, *, now: datetime, settings: Settings) -> str | None:
    """Make the digest of the week starting `start` and queue it to the alert channels;
    None when it was made already (by this process or another)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed = session.scalar(
        insert(Digest)
        .values(week_start=start, created_at=now)
        .on_conflict_do_nothing(index_elements=["week_start"])
        .returning(Digest.week_start)
    )
    if claimed is None:
        return None
    digest = content(session, start, now=now, zone=settings.timezone)
    link = f"{settings.base_url.rstrip('/')}/digest?week={start.isoformat()}"
    # A digest of figures is internal news: external alert channels never get it.
    post_id = queue_announcement(
        session,
        text=as_text(digest, link=link),
        title=title_of(digest),
        link=link,
        now=now,
        internal_channels_only=True,
    )
    session.execute(update(Digest).where(Digest.week_start == start).values(post_id=post_id))
    session.flush()
    return post_id


def send_due(session: Session, *, now: datetime, settings: Settings) -> str | None:
    """The scheduled job's step: send last week's digest if it is due and not sent."""
    start = due_week(now, settings)
    if start is None:
        return None
    if session.get(Digest, start) is not None:
        return None
    return send(session, start, now=now, settings=settings)


DIGEST_CHECK_SECONDS = 60.0


async def send_digest_job(runtime: Runtime, wake: Callable[[], None]) -> None:
    """The scheduler's job: send last week's digest when due (once across processes)."""

    def step() -> str | None:
        with transaction(runtime.sessions) as session:
            return send_due(session, now=runtime.clock.now(), settings=runtime.settings)

    try:
        post_id = await asyncio.to_thread(step)
    except Exception:
        log.exception("the weekly digest could not be made")
        return
    if post_id is not None:
        log.info("weekly digest queued for the alert channels", extra={"post_id": post_id})
        wake()
