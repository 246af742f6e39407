"""Recurring posts: a series makes its occurrences, real posts, up to the horizon.

Occurrences are created through the batch path (flows.create_posts), so the platform
rules run once per distinct content, outside the write transaction. A series edit
changes its future occurrences that were not edited on their own (detached); past and
published ones never change.

Approval (issue 12): each occurrence is a post of its own. A contributor's series (or
one matching a require_approval guardrail) makes every occurrence pending, the ones the
periodic job adds later too (they are made as the series' author); an approver approves
or rejects each occurrence on its own: approving one never approves the others. A
series edit re-applies the rule to every occurrence it changes, like any post edit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.errors import Conflict, FieldProblem, InvalidInput, NotFound, invalid
from app.planning import recurrence
from app.planning.models import Series
from app.planning.schemas import SeriesOut, SeriesUpdate
from app.posts import flows, service
from app.posts.models import Post, PostState
from app.posts.rules import PlatformRules, run_outside_transaction
from app.posts.schemas import PostCreate, PostUpdate
from app.runtime import Runtime
from app.schemas import patch_fields
from app.team import hooks as team
from app.users.models import User

log = logging.getLogger(__name__)
# Times of the rule are whole seconds: "after t" is "from t plus a second".
SECOND = timedelta(seconds=1)
CONTENT = ("text", "title", "link", "media_ids", "objective_ids", "channel_ids", "internal_only")
TIMING = ("time", "recurrence", "timezone")


class _Taken(Exception):
    """Another process extended the series first."""


def refuse_in_batch(items: Sequence[PostCreate]) -> None:
    problems = [
        FieldProblem(
            ("body", "posts", i, field), "a batch holds no recurring, queued or library post"
        )
        for i, item in enumerate(items)
        for field in ("recurrence", "timezone", "queue", "evergreen")
        if getattr(item, field) not in (None, False)
    ]
    if problems:
        raise InvalidInput(problems)


def _unbatched(problems: Sequence[FieldProblem]) -> list[FieldProblem]:
    """Problems of the occurrences as problems of the one post asked for (once each)."""
    out: dict[tuple[Any, ...], FieldProblem] = {}
    for p in problems:
        loc = ("body", *p.loc[3:]) if p.loc[:2] == ("body", "posts") else p.loc
        out.setdefault((loc, p.msg), FieldProblem(loc, p.msg, p.type, p.channel_id))
    return list(out.values())


def _items(template: PostCreate, times: Sequence[datetime]) -> list[PostCreate]:
    return [
        template.model_copy(
            update={
                "scheduled_at": at,
                "recurrence": None,
                "timezone": None,
                "queue": False,
                "evergreen": False,
            }
        )
        for at in times
    ]


def _template(series: Series) -> PostCreate:
    return PostCreate.model_construct(
        text=series.text,
        title=series.title,
        link=series.link,
        media_ids=list(series.media_ids),
        objective_ids=list(series.objective_ids),
        channel_ids=list(series.channel_ids),
        scheduled_at=None,
        publish_now=False,
        internal_only=series.internal_only,
        status=series.status,  # type: ignore[arg-type]
        recurrence=None,
        timezone=None,
        queue=False,
        evergreen=False,
    )


def _times(
    rule: recurrence.Rule, start: datetime, *, after: datetime, before: datetime
) -> list[datetime]:
    return list(recurrence.occurrences(rule, start, after=after, before=before))


def create_series(
    session: Session, runtime: Runtime, *, data: PostCreate, user: User, now: datetime
) -> list[Post]:
    """The occurrences of a new series, first one first (it is always created)."""
    if data.recurrence is None:
        raise invalid("recurrence", "give the rule the post repeats on, e.g. FREQ=WEEKLY")
    if data.publish_now or data.scheduled_at is None:
        raise invalid("scheduled_at", "a recurring post needs scheduled_at, its first time")
    zone = data.timezone or runtime.settings.timezone
    start = recurrence.local_start(data.scheduled_at, zone)
    rule = recurrence.parse(data.recurrence, start)
    first = recurrence.first(rule, start, after=start)
    if first is None:
        raise invalid("recurrence", "the rule yields no occurrence from scheduled_at")
    try:
        horizon = max(
            now + timedelta(days=runtime.settings.recurrence_horizon_days), first + SECOND
        )
    except OverflowError:  # a first time in the last second of year 9999
        raise invalid("scheduled_at", "is outside the range of supported times") from None
    times = [first, *_times(rule, start, after=first + SECOND, before=horizon)]
    try:
        posts = flows.create_posts(session, runtime, items=_items(data, times), user=user, now=now)
    except InvalidInput as exc:
        raise InvalidInput(_unbatched(exc.problems)) from None
    series = Series(
        rule=rule.text_with_until,
        timezone=zone,
        starts_at=start,
        extended_to=horizon,
        cancelled=False,
        text=data.text,
        title=data.title,
        link=data.link,
        internal_only=data.internal_only,
        status=data.status,
        media_ids=list(dict.fromkeys(data.media_ids)),
        objective_ids=list(dict.fromkeys(data.objective_ids)),
        channel_ids=list(dict.fromkeys(data.channel_ids)),
        created_by_id=user.id,
        created_at=now,
        updated_at=now,
    )
    session.add(series)
    session.flush()
    for post in posts:
        post.series_id = series.id
    session.flush()
    return posts


# --- Extension: occurrences that came within the horizon, made by one process ----------


def due(session: Session, *, now: datetime, horizon_days: int) -> list[str]:
    horizon = now + timedelta(days=horizon_days)
    return list(
        session.scalars(
            select(Series.id).where(Series.cancelled.is_(False), Series.extended_to < horizon)
        )
    )


def extend(runtime: Runtime, series_id: str, *, now: datetime) -> int:
    """Make the series' occurrences up to the horizon; answers how many this call made.

    The claim is a compare-and-set on `extended_to` in the write transaction: of two
    processes extending at once, the second finds it moved and writes nothing."""
    horizon = now + timedelta(days=runtime.settings.recurrence_horizon_days)
    with runtime.sessions() as session:
        series = session.get(Series, series_id)
        if series is None or series.cancelled or series.extended_to >= horizon:
            return 0
        old = series.extended_to
        start = recurrence.local_start(series.starts_at, series.timezone)
        times = _times(
            recurrence.parse(series.rule, start), start, after=max(old, now), before=horizon
        )
        user = session.get(User, series.created_by_id) if series.created_by_id else None
        claim = (
            update(Series)
            .where(Series.id == series_id, Series.extended_to == old)
            .values(extended_to=horizon)
        )

        def take() -> None:
            if int(session.execute(claim).rowcount or 0) != 1:  # type: ignore[attr-defined]
                raise _Taken

        if not times or user is None:
            take()
            session.commit()
            return 0
        try:
            posts = flows.create_posts(
                session,
                runtime,
                items=_items(_template(series), times),
                user=user,
                now=now,
                before_write=take,
            )
        except _Taken:
            session.rollback()
            return 0
        except InvalidInput as exc:
            # The claim stands: the occurrences are skipped, not retried for ever.
            log.warning("series %s: occurrences not made: %s", series_id, exc)
            session.commit()
            return 0
        for post in posts:
            post.series_id = series_id
        session.commit()
        return len(posts)


def extend_all(runtime: Runtime, *, now: datetime) -> int:
    with runtime.sessions() as session:
        ids = due(session, now=now, horizon_days=runtime.settings.recurrence_horizon_days)
    made = 0
    for series_id in ids:
        try:
            made += extend(runtime, series_id, now=now)
        except (Conflict, InvalidInput) as exc:
            log.warning("series %s: not extended this time: %s", series_id, exc)
    return made


# --- The series' own endpoints ------------------------------------------------------------


def get(session: Session, series_id: str) -> Series:
    series = session.get(Series, series_id)
    if series is None:
        raise NotFound("series", series_id)
    return series


def to_out(series: Series) -> SeriesOut:
    local = recurrence.local_start(series.starts_at, series.timezone)
    return SeriesOut(
        id=series.id,
        recurrence=series.rule,
        timezone=series.timezone,
        time=local.strftime("%H:%M"),
        starts_at=series.starts_at,
        extended_to=series.extended_to,
        cancelled=series.cancelled,
        text=series.text,
        title=series.title,
        link=series.link,
        internal_only=series.internal_only,
        status=series.status,
        media_ids=list(series.media_ids),
        objective_ids=list(series.objective_ids),
        channel_ids=list(series.channel_ids),
        created_by_id=series.created_by_id,
        created_at=series.created_at,
        updated_at=series.updated_at,
    )


def _future(session: Session, series_id: str, now: datetime, *, attached: bool) -> list[Post]:
    """Occurrences still to come that may change: not cancelled, nothing published."""
    query = select(Post).where(
        Post.series_id == series_id,
        Post.scheduled_at >= now,
        Post.state != PostState.cancelled,
    )
    if attached:
        query = query.where(Post.series_detached.is_(False))
    posts = session.scalars(query.order_by(Post.scheduled_at)).all()
    return [p for p in posts if not any(d.status in service.LOCKED for d in p.deliveries)]


def future_attached(session: Session, series_id: str, now: datetime) -> list[Post]:
    return _future(session, series_id, now, attached=True)


def cancel_series(session: Session, *, series_id: str, user: User, now: datetime) -> list[Post]:
    """Cancel every future occurrence, detached ones too; the series makes no more."""
    series = get(session, series_id)
    series.cancelled, series.updated_at = True, now
    posts = _future(session, series_id, now, attached=False)
    for post in posts:
        service.cancel(session, post_id=post.id, user=user, now=now)
    session.flush()
    return posts


def _apply_content(series: Series, changes: dict[str, Any]) -> None:
    for field in CONTENT:
        if field in changes:
            value = changes[field]
            setattr(series, field, list(dict.fromkeys(value)) if field.endswith("_ids") else value)


def _edit_occurrences(
    session: Session,
    runtime: Runtime,
    ids: list[str],
    changes: dict[str, Any],
    *,
    user: User,
    now: datetime,
) -> None:
    """The content change on each attached future occurrence, all or none."""
    data = PostUpdate(**{k: v for k, v in changes.items() if k in CONTENT})
    where: dict[str, Any] = {
        "media_dir": runtime.settings.media_dir,
        "base_url": runtime.settings.base_url,
    }

    def plan(rules: PlatformRules) -> None:
        for i in ids:
            service.check_update(session, post_id=i, data=data, now=now, rules=rules, **where)

    rules = run_outside_transaction(session, plan)
    with session.begin_nested():
        for i in ids:
            before = team.before_update(session, i)
            post = service.update(
                session, post_id=i, data=data, user=user, now=now, rules=rules, **where
            )
            # team workflow: guardrails, and approval asked again as for any edit.
            team.after_write(
                session, post, user=user, settings=runtime.settings, before=before, now=now
            )


def _new_timing(series: Series, changes: dict[str, Any]) -> tuple[recurrence.Rule, datetime]:
    """The rule and its DTSTART after the edit: the first day, at the (new) time of day."""
    zone = changes.get("timezone") or series.timezone
    at = recurrence.local_start(series.starts_at, series.timezone).time()
    if changes.get("time") is not None:
        hour, minute = changes["time"].split(":")
        at = time(int(hour), int(minute))
    first_day = recurrence.local_start(series.starts_at, series.timezone).date()
    start = datetime.combine(first_day, at, tzinfo=ZoneInfo(zone))
    rule = recurrence.parse(changes.get("recurrence") or series.rule, start)
    if recurrence.first(rule, start, after=start) is None:
        raise invalid("recurrence", "the rule yields no occurrence")
    return rule, start


def _edited_template(series: Series, changes: dict[str, Any]) -> PostCreate:
    template = _template(series)
    return template.model_copy(update={k: v for k, v in changes.items() if k in CONTENT})


def update_series(
    session: Session,
    runtime: Runtime,
    *,
    series_id: str,
    data: SeriesUpdate,
    user: User,
    now: datetime,
) -> tuple[list[Post], list[Post]]:
    """Answers the occurrences changed or cancelled, and the ones made anew.

    Nothing is written before the occurrences' rules have passed: the checks end the
    read transaction (app/posts/rules.py), and a refused edit must leave no trace."""
    series = get(session, series_id)
    if series.cancelled:
        raise Conflict("the series is cancelled and cannot be edited")
    changes = patch_fields(data, nullable=frozenset({"title", "link"}))
    attached = [p.id for p in _future(session, series_id, now, attached=True)]
    if not any(k in changes for k in TIMING):
        if attached:
            _edit_occurrences(session, runtime, attached, changes, user=user, now=now)
        series = get(session, series_id)
        _apply_content(series, changes)
        series.updated_at = now
        session.flush()
        return [session.get_one(Post, i) for i in attached], []
    rule, start = _new_timing(series, changes)
    horizon = now + timedelta(days=runtime.settings.recurrence_horizon_days)
    times = _times(rule, start, after=now, before=horizon)
    made: list[Post] = []
    if times:
        try:
            made = flows.create_posts(
                session,
                runtime,
                items=_items(_edited_template(series, changes), times),
                user=user,
                now=now,
            )
        except InvalidInput as exc:
            raise InvalidInput(_unbatched(exc.problems)) from None
    for post in made:
        post.series_id = series_id
    for post_id in attached:
        service.cancel(session, post_id=post_id, user=user, now=now)
    series = get(session, series_id)
    _apply_content(series, changes)
    series.rule, series.timezone, series.starts_at = rule.text_with_until, str(start.tzinfo), start
    series.extended_to, series.updated_at = horizon, now
    session.flush()
    return [session.get_one(Post, i) for i in attached], made
