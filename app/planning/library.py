"""The evergreen library and auto-fill.

A library post (`"evergreen": true`) is checked as a scheduled post would be, then
kept as a draft with `evergreen` set: it is never on the calendar and never
published. When an objective with `autofill` on has an uncovered day within its
`autofill_ahead_days`, a free slot that day and library posts, the library post used
least recently (and not on the same channel within CADENCE_EVERGREEN_COOLDOWN_DAYS of
that time) is copied into the slot: at once (`schedule`, by the periodic job) or when
a person takes the alert's suggestion (`suggest`, POST /alerts/{id}/fill). A library post
that needs approval (a contributor's, or one matching a require_approval guardrail)
waits for it once, in the library (`library_held`): auto-fill never copies it until
approved, and its copies are created scheduled, never pending. An insert
into autofill_claims, in the copy's write transaction, makes each objective-day filled
once across processes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertKind, AlertStatus
from app.coverage import service as coverage
from app.coverage.days import local_today
from app.errors import Conflict, InvalidInput, NotFound, invalid
from app.objectives.models import Objective
from app.planning import slots
from app.planning.models import AutofillClaim, Slot
from app.posts import flows, service
from app.posts.models import Delivery, Post, PostState, post_objectives
from app.posts.rules import run_outside_transaction
from app.posts.schemas import PostCreate, PostUpdate
from app.runtime import Runtime
from app.team import hooks as team
from app.users.models import User

log = logging.getLogger(__name__)


class _Taken(Exception):
    """Another process (or person) filled the day first."""


@dataclass(frozen=True)
class Fill:
    """An uncovered day, the slot time to fill it at and the library post to copy."""

    objective: Objective
    day: date
    at: datetime
    slot: Slot
    source: Post


def create_library_post(
    session: Session, runtime: Runtime, *, data: PostCreate, user: User, now: datetime
) -> Post:
    """Checked as if scheduled (every rule, the platforms' outside the transaction),
    then kept as an evergreen draft."""
    if data.scheduled_at is not None or data.publish_now or data.queue or data.recurrence:
        raise invalid(
            "evergreen",
            "a library post has no time: leave out scheduled_at, publish_now, queue and recurrence",
        )
    where: dict[str, Any] = {
        "media_dir": runtime.settings.media_dir,
        "base_url": runtime.settings.base_url,
    }
    # Any future time: the rules of a scheduled post, not the time, are what is checked.
    as_scheduled = data.model_copy(
        update={"status": "scheduled", "scheduled_at": now + timedelta(days=1), "evergreen": False}
    )
    rules = run_outside_transaction(
        session,
        lambda r: service.check_create(session, data=as_scheduled, now=now, rules=r, **where),
    )
    with session.begin_nested():
        post = service.create(session, data=as_scheduled, user=user, now=now, rules=rules, **where)
        # team workflow: guardrails refuse it as any post; one that would wait for an
        # approver waits here, once (its copies are then approved: see make()).
        team.after_write(session, post, user=user, settings=runtime.settings, before=None, now=now)
        held = post.state == PostState.pending_approval
        post.state = PostState.scheduled  # made a draft below, whatever the rule said
        service.update(
            session,
            post_id=post.id,
            data=PostUpdate(status="draft", scheduled_at=None),
            user=user,
            now=now,
            **where,
        )
        post.evergreen = True
        if held:
            post.state, post.library_held = PostState.pending_approval, True
        session.flush()
    return post


def library_of(
    session: Session, objective_id: str, *, limit: int | None = None, offset: int = 0
) -> tuple[list[Post], int]:
    query = (
        select(Post)
        .join(post_objectives, post_objectives.c.post_id == Post.id)
        .where(
            post_objectives.c.objective_id == objective_id,
            Post.evergreen.is_(True),
            Post.state != PostState.cancelled,
        )
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Post.created_at, Post.id).limit(limit).offset(offset))
    return list(rows), total


def pick(session: Session, objective_id: str, at: datetime, cooldown: timedelta) -> Post | None:
    """The library post used least recently that has not gone to any of its channels
    within `cooldown` of `at`."""
    # A library post waiting for approval (or rejected) is never copied.
    library = [p for p in library_of(session, objective_id)[0] if not p.library_held]
    if not library:
        return None
    ids = [p.id for p in library]
    live = (Post.filled_from.in_(ids), Post.state != PostState.cancelled)
    last: dict[str | None, datetime | None] = {
        source: used
        for source, used in session.execute(
            select(Post.filled_from, func.max(Post.scheduled_at))
            .where(*live)
            .group_by(Post.filled_from)
        ).all()
    }
    near = set(
        session.execute(
            select(Post.filled_from, Delivery.channel_id)
            .join(Delivery, Delivery.post_id == Post.id)
            .where(*live, Post.scheduled_at > at - cooldown, Post.scheduled_at < at + cooldown)
        ).all()
    )
    eligible = [p for p in library if not any((p.id, d.channel_id) in near for d in p.deliveries)]
    never = datetime.min.replace(tzinfo=UTC)
    eligible.sort(key=lambda p: (last.get(p.id) or never, p.created_at, p.id))
    return eligible[0] if eligible else None


def fill_for(
    session: Session, objective: Objective, day: date, *, now: datetime, cooldown: timedelta
) -> Fill | None:
    """How the day would be filled now: its first free slot and the post to copy."""
    found = slots.next_free(session, objective.id, now=now, days=1, first=day)
    if found is None:
        return None
    at, slot = found
    source = pick(session, objective.id, at, cooldown)
    return None if source is None else Fill(objective, day, at, slot, source)


def _uncovered_days(session: Session, objective: Objective, now: datetime) -> list[date]:
    today = local_today(now, objective.timezone)
    end = today + timedelta(days=objective.autofill_ahead_days - 1)
    cells = coverage.cells(session, [objective], today, end, now=now)
    return [c.day for c in cells if not c.ended and c.planned < c.required]


def fills(session: Session, *, now: datetime, cooldown: timedelta, mode: str) -> list[Fill]:
    """The fills to make now for the objectives whose auto-fill is `mode`."""
    out = []
    for objective in session.scalars(
        select(Objective).where(Objective.autofill == mode, Objective.archived.is_(False))
    ):
        for day in _uncovered_days(session, objective, now):
            fill = fill_for(session, objective, day, now=now, cooldown=cooldown)
            if fill is not None:
                out.append(fill)
    return out


def _claim(session: Session, fill: Fill, now: datetime) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    taken = session.scalar(
        insert(AutofillClaim)
        .values(objective_id=fill.objective.id, day=fill.day, created_at=now)
        .on_conflict_do_nothing(index_elements=["objective_id", "day"])
        .returning(AutofillClaim.day)
    )
    if taken is None:
        raise _Taken


def _note(fill: Fill) -> str:
    text = (fill.source.title or fill.source.text)[:60]
    return f"filled from the evergreen library with {text!r}"


def make(session: Session, runtime: Runtime, fill: Fill, *, now: datetime, user: User) -> Post:
    """Copy the library post into the slot, once per objective-day (raises _Taken)."""
    source = fill.source
    channels = [d.channel_id for d in source.deliveries] or list(fill.slot.channel_ids)
    data = PostCreate(
        text=source.text,
        title=source.title,
        link=source.link,
        media_ids=[m.media_id for m in source.media_links],
        objective_ids=[fill.objective.id],
        channel_ids=channels,
        scheduled_at=fill.at,
    )
    source_id, objective_id, day = source.id, fill.objective.id, fill.day
    note = _note(fill)
    [post] = flows.create_posts(
        session,
        runtime,
        items=[data],
        user=user,
        now=now,
        before_write=lambda: _claim(session, fill, now),
        approved=True,  # the library post was approved once (or never needed it)
    )
    post.filled_from, post.auto_filled = source_id, True
    session.execute(
        update(AutofillClaim)
        .where(AutofillClaim.objective_id == objective_id, AutofillClaim.day == day)
        .values(post_id=post.id)
    )
    coverage.effect(
        session,
        touched=[(objective_id, post.scheduled_at)],
        now=now,
        lookahead_days=runtime.settings.coverage_lookahead_days,
    )
    session.execute(
        update(Alert)
        .where(
            Alert.dedupe_key == f"{AlertKind.objective_uncovered}:{objective_id}:{day}",
            Alert.resolved_at == now,
        )
        .values(resolution_note=note)
    )
    session.flush()
    return post


def autofill_all(runtime: Runtime, *, now: datetime) -> int:
    """The periodic job: fill what `schedule` objectives leave uncovered; how many made."""
    cooldown = timedelta(days=runtime.settings.evergreen_cooldown_days)
    with runtime.sessions() as session:
        planned = [
            (f.objective.id, f.day)
            for f in fills(session, now=now, cooldown=cooldown, mode="schedule")
        ]
    made = 0
    for objective_id, day in planned:
        with runtime.sessions() as session:
            objective = session.get(Objective, objective_id)
            fill = (
                None
                if objective is None
                else fill_for(session, objective, day, now=now, cooldown=cooldown)
            )
            user = (
                None
                if fill is None or fill.source.created_by_id is None
                else session.get(User, fill.source.created_by_id)
            )
            if fill is None or user is None:
                continue
            try:
                make(session, runtime, fill, now=now, user=user)
            except _Taken:
                session.rollback()
                continue
            except (InvalidInput, Conflict) as exc:
                log.warning("auto-fill of %s on %s not made: %s", objective_id, day, exc)
                session.rollback()
                continue
            session.commit()
            made += 1
    return made


def fill_alert(
    session: Session, runtime: Runtime, *, alert_id: str, user: User, now: datetime
) -> Post:
    """POST /alerts/{id}/fill: take the alert's suggestion."""
    fill = suggestion(session, alert_id, now=now, cooldown=cooldown(runtime))
    if fill is None:
        raise Conflict(
            "nothing to fill this day with: no free slot, or no library post out of its cooldown"
        )
    try:
        return make(session, runtime, fill, now=now, user=user)
    except _Taken:
        raise Conflict("the day was filled already") from None


def cooldown(runtime: Runtime) -> timedelta:
    return timedelta(days=runtime.settings.evergreen_cooldown_days)


def suggestion(
    session: Session, alert_id: str, *, now: datetime, cooldown: timedelta
) -> Fill | None:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    if (
        alert.kind != AlertKind.objective_uncovered
        or alert.status == AlertStatus.resolved
        or alert.objective_id is None
        or alert.day is None
    ):
        raise Conflict("only an open objective_uncovered alert can be filled")
    objective = session.get(Objective, alert.objective_id)
    if objective is None:
        raise NotFound("objective", alert.objective_id)
    return fill_for(session, objective, alert.day, now=now, cooldown=cooldown)


def suggestions(
    session: Session, alerts: list[Alert], *, now: datetime, cooldown: timedelta
) -> dict[str, Fill]:
    """For the alerts page: the "Fill with ..." action of each open uncovered alert of an
    objective whose auto-fill is `suggest`."""
    out = {}
    for alert in alerts:
        if alert.kind != AlertKind.objective_uncovered or alert.resolved_at is not None:
            continue
        objective = session.get(Objective, alert.objective_id) if alert.objective_id else None
        if objective is None or objective.autofill != "suggest" or alert.day is None:
            continue
        fill = fill_for(session, objective, alert.day, now=now, cooldown=cooldown)
        if fill is not None:
            out[alert.id] = fill
    return out
