"""Importing posts from a spreadsheet file and exporting them as one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.channels.models import Channel
from app.errors import InvalidInput
from app.exchange import bulk, sheet
from app.objectives.models import Objective
from app.posts import flows
from app.posts.models import Delivery, Post, PostKind, PostState
from app.runtime import Runtime
from app.users.models import User


class ImportRefused(Exception):
    """The file holds problems: nothing was stored."""

    def __init__(self, problems: list[sheet.RowProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = sorted(problems, key=lambda p: (p.row, _column_order(p.column)))


def _column_order(column: str) -> int:
    return sheet.COLUMNS.index(column) if column in sheet.COLUMNS else len(sheet.COLUMNS)


@dataclass
class Imported:
    rows: int
    dry_run: bool
    posts: list[Post] = field(default_factory=list)


def _names(session: Session) -> tuple[sheet.Names, sheet.Names]:
    return (
        sheet.Names("objective", session.scalars(select(Objective))),
        sheet.Names("channel", session.scalars(select(Channel))),
    )


def import_posts(
    session: Session,
    runtime: Runtime,
    *,
    data: bytes,
    user: User,
    zone: str,
    now: datetime,
    dry_run: bool,
) -> Imported:
    """Every row a post, or none: ImportRefused names every problem of every row.

    The rows go through flows.create_posts, the batch path of POST /posts/batch, so a
    row is checked exactly as a post sent to the API (platform rules included). A dry
    run, or a file with problems, rolls the write back."""
    # Thousands of rows make hundreds of thousands of live objects (see bulk.py).
    with bulk.collector_paused():
        return _import(session, runtime, data=data, user=user, zone=zone, now=now, dry_run=dry_run)


def _import(
    session: Session,
    runtime: Runtime,
    *,
    data: bytes,
    user: User,
    zone: str,
    now: datetime,
    dry_run: bool,
) -> Imported:
    read = sheet.read(data)
    objectives, channels = _names(session)
    planned = sheet.plan(read.rows, objectives, channels, zone)
    problems = read.problems + planned.problems
    posts: list[Post] = []
    try:
        posts = flows.create_posts(session, runtime, items=planned.items, user=user, now=now)
    except InvalidInput as exc:
        problems += sheet.post_problems(planned, exc.problems)
    if problems or dry_run:
        # Only the write phase is undone: flows.create_posts ended the read phase.
        session.rollback()
    if problems:
        raise ImportRefused(problems)
    return Imported(rows=len(read.rows), dry_run=dry_run, posts=[] if dry_run else posts)


def export_posts(session: Session, *, start: datetime, end: datetime, zone: str) -> str:
    """Draft and scheduled posts from start (included) to end (excluded), as a CSV file
    that imports unchanged; times are written local to `zone`, with their offset."""
    objectives, channels = _names(session)
    tz = ZoneInfo(zone)
    posts = session.scalars(
        select(Post)
        .where(
            Post.kind == PostKind.post,
            Post.state.in_((PostState.draft, PostState.scheduled)),
            Post.scheduled_at >= start,
            Post.scheduled_at < end,
        )
        .order_by(Post.scheduled_at, Post.id)
        .options(selectinload(Post.deliveries), selectinload(Post.objectives))
    )
    rows = []
    for post in posts:
        when = post.scheduled_at.astimezone(tz).isoformat() if post.scheduled_at else ""
        # By name, not by delivery: a re-import creates deliveries with new ids.
        ordered = sorted(post.deliveries, key=lambda d: _channel_order(channels, d))
        rows.append(
            [
                sheet.escape_cell(post.text),
                when,
                ";".join(objectives.label(o) for o in sorted(post.objectives, key=_by_name)),
                ";".join(_channel_label(channels, d) for d in ordered),
                sheet.escape_cell(post.title or ""),
                post.link or "",
                zone,
                str(post.state),
            ]
        )
    return sheet.write(rows)


def _by_name(objective: Objective) -> tuple[str, str]:
    return (objective.name, objective.id)


def _channel_order(channels: sheet.Names, delivery: Delivery) -> tuple[str, str]:
    channel = channels.by_id.get(delivery.channel_id)
    return (channel.name if channel is not None else "", delivery.channel_id)


def _channel_label(channels: sheet.Names, delivery: Delivery) -> str:
    channel = channels.by_id.get(delivery.channel_id)
    return delivery.channel_id if channel is None else channels.label(channel)
