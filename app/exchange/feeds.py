"""Secret iCalendar feeds of the posts a person may see, for Google Calendar, Outlook
and Apple Calendar, made with the icalendar library.

One event per post that is scheduled, under way or published, from 30 days back to a
year ahead. The feed's URL carries a random token; only its SHA-256 is stored, as for
API tokens, so the URL is shown once, when the feed is made."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.channels.models import Channel
from app.errors import NotFound
from app.exchange.models import CalendarFeed
from app.posts.models import Post, PostKind
from app.posts.status import PostStatus, post_status
from app.users.models import User
from app.users.service import hash_token

PAST = timedelta(days=30)
AHEAD = timedelta(days=365)
# A post is an instant; calendars show it as a short event.
LENGTH = timedelta(minutes=15)
SHOWN = (
    PostStatus.scheduled,
    PostStatus.publishing,
    PostStatus.needs_review,
    PostStatus.partially_published,
    PostStatus.published,
)
TOKEN_PREFIX = "calf_"
REFRESH = timedelta(hours=1)


def feed_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/calendar/feeds/{token}.ics"


def create_feed(session: Session, *, user: User, now: datetime) -> tuple[CalendarFeed, str]:
    """A new feed of the person's; the token is in this answer only."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, token_hash=hash_token(token), created_at=now)
    session.add(feed)
    session.flush()
    return feed, token


def list_feeds(
    session: Session, *, user: User, limit: int, offset: int
) -> tuple[list[CalendarFeed], int]:
    """The person's own feeds (not an admin's view of everyone's: they are secrets)."""
    mine = select(CalendarFeed).where(CalendarFeed.user_id == user.id)
    total = session.scalar(select(func.count()).select_from(mine.subquery())) or 0
    rows = session.scalars(
        mine.order_by(CalendarFeed.created_at, CalendarFeed.id).limit(limit).offset(offset)
    )
    return list(rows), total


def revoke_feed(session: Session, *, user: User, feed_id: str) -> None:
    """Delete one of the person's feeds: its URL answers 404 from now on. Another
    person's feed is 404 too, whoever asks: it is none of their business."""
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or feed.user_id != user.id:
        raise NotFound("calendar feed", feed_id)
    session.delete(feed)
    session.flush()


def user_for_feed(session: Session, token: str) -> User | None:
    """The active person a feed token belongs to, or None (unknown, revoked, disabled)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    user = session.scalars(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == hash_token(token))
    ).first()
    return user if user is not None and user.active else None


def _posts(session: Session, now: datetime) -> Sequence[tuple[Post, str]]:
    query = (
        select(Post, post_status().label("status"))
        .where(
            Post.kind == PostKind.post,
            Post.scheduled_at >= now - PAST,
            Post.scheduled_at < now + AHEAD,
            post_status().in_([s.value for s in SHOWN]),
        )
        .order_by(Post.scheduled_at, Post.id)
        .options(selectinload(Post.deliveries), selectinload(Post.objectives))
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def _summary(post: Post) -> str:
    if post.title:
        return post.title
    first = (post.text.strip().splitlines() or ["(no text)"])[0]
    return first if len(first) <= 80 else first[:79] + "…"


def _event(
    post: Post, start: datetime, status: str, channels: dict[str, str], base_url: str, host: str
) -> Event:
    names = sorted(channels.get(d.channel_id, d.channel_id) for d in post.deliveries)
    page = f"{base_url.rstrip('/')}/posts/{post.id}"
    event = Event()
    # Stable: the same post is the same event in every fetch, so calendars update it.
    event.add("uid", f"post-{post.id}@{host}")
    event.add("dtstamp", post.updated_at)
    event.add("last-modified", post.updated_at)
    event.add("dtstart", start)
    event.add("dtend", start + LENGTH)
    event.add("summary", _summary(post))
    event.add(
        "description",
        f"{post.text}\n\nChannels: {', '.join(names) or 'none'}\nStatus: {status}\n{page}",
    )
    event.add("url", page)
    objectives = sorted(o.name for o in post.objectives)
    if objectives:
        event.add("categories", objectives)
    return event


def render(session: Session, *, now: datetime, base_url: str) -> bytes:
    """The feed's iCalendar text: times in UTC (DTSTART:20261201T093000Z)."""
    host = urlsplit(base_url).hostname or "cadence"
    channels = {c.id: c.name for c in session.scalars(select(Channel))}
    calendar = Calendar()
    calendar.add("prodid", "-//Cadence//Post calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Cadence posts")
    # How often calendar apps should fetch it again (RFC 7986; Outlook reads the X- one).
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for post, status in _posts(session, now):
        if post.scheduled_at is not None:  # always, by the query: for the type checker
            start = post.scheduled_at
            calendar.add_component(_event(post, start, status, channels, base_url, host))
    return calendar.to_ical()
