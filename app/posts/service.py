"""Posts and their deliveries: create, edit, cancel, list as a calendar, retry."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from app.channels.models import Channel, ChannelStatus, internal_only_problem
from app.db import new_id
from app.errors import Conflict, FieldProblem, InvalidInput, NotFound
from app.exchange import threads, utm, versions
from app.media.models import Media
from app.objectives.models import Objective
from app.posts.models import (
    Delivery,
    DeliveryStatus,
    Post,
    PostKind,
    PostMedia,
    PostState,
    post_objectives,
)
from app.posts.requests import publish_request
from app.posts.rules import PlatformRules
from app.posts.schemas import (
    NULLABLE_ON_PATCH,
    DeliveryOut,
    PostCreate,
    PostOut,
    PostUpdate,
    VersionOut,
)
from app.posts.status import PostStatus, post_status
from app.publishing import transitions
from app.schemas import patch_fields
from app.users.models import User
from connectors.base import PublishRequest
from connectors.registry import get_platform

# A scheduled_at this far in the past is still taken as "now" (clock skew, slow clients).
PAST_GRACE = timedelta(seconds=60)
# Delivery statuses that mean the post may already be out: no more edits or cancels.
LOCKED = (DeliveryStatus.publishing, DeliveryStatus.published, DeliveryStatus.unknown)
RETRYABLE = (DeliveryStatus.failed, DeliveryStatus.unknown)


@dataclass(frozen=True)
class Draft:
    """The post as it will be once written: what validation looks at."""

    text: str
    title: str | None
    link: str | None
    media_ids: list[str]
    objective_ids: list[str]
    channel_ids: list[str]
    scheduled_at: datetime | None
    internal_only: bool
    state: PostState
    utm: bool = True
    versions: versions.Versions = dataclass_field(default_factory=dict)
    thread: tuple[str, ...] = ()
    first_comment: str | None = None


@dataclass(frozen=True)
class Resolved:
    media: list[Media]
    objectives: list[Objective]
    channels: list[Channel]


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


@dataclass
class Found:
    """Rows the drafts refer to, by id: loaded once for any number of drafts."""

    media: dict[str, Media]
    objectives: dict[str, Objective]
    channels: dict[str, Channel]


def _rows(session: Session, model: Any, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


def _find(session: Session, drafts: Sequence[Draft]) -> Found:
    return Found(
        media=_rows(session, Media, {i for d in drafts for i in d.media_ids}),
        objectives=_rows(session, Objective, {i for d in drafts for i in d.objective_ids}),
        channels=_rows(session, Channel, {i for d in drafts for i in d.channel_ids}),
    )


def _pick(
    found: dict[str, Any], ids: list[str], field: str, name: str
) -> tuple[list[Any], list[FieldProblem]]:
    problems = [
        FieldProblem(("body", field, i), f"{name} {id_} not found")
        for i, id_ in enumerate(ids)
        if id_ not in found
    ]
    return [found[i] for i in ids if i in found], problems


def _resolve(draft: Draft, found: Found) -> tuple[Resolved, list[FieldProblem]]:
    """The rows a draft names, and a problem for each id that names nothing."""
    media, problems = _pick(found.media, draft.media_ids, "media_ids", "media")
    objectives, more = _pick(found.objectives, draft.objective_ids, "objective_ids", "objective")
    problems += more
    channels, more = _pick(found.channels, draft.channel_ids, "channel_ids", "channel")
    problems += more
    return Resolved(media=media, objectives=objectives, channels=channels), problems


def _scheduling_problems(draft: Draft) -> list[FieldProblem]:
    """What a scheduled post must have: objectives, channels and a time."""
    if draft.state != PostState.scheduled:
        return []
    problems = []
    if not draft.objective_ids:
        problems.append(
            FieldProblem(("body", "objective_ids"), "a scheduled post needs at least one objective")
        )
    if not draft.channel_ids:
        problems.append(
            FieldProblem(("body", "channel_ids"), "a scheduled post needs at least one channel")
        )
    if draft.scheduled_at is None:
        problems.append(
            FieldProblem(
                ("body", "scheduled_at"), "a scheduled post needs scheduled_at (or publish_now)"
            )
        )
    return problems


def _usability_problems(draft: Draft, resolved: Resolved) -> list[FieldProblem]:
    """Objectives and channels the post may not use: archived, disabled, external."""
    scheduling = draft.state == PostState.scheduled
    problems = [
        FieldProblem(("body", "objective_ids", i), f"objective {objective.name!r} is archived")
        for i, objective in enumerate(resolved.objectives)
        if objective.archived and scheduling
    ]
    for i, channel in enumerate(resolved.channels):
        refused = internal_only_problem(channel, internal_only=draft.internal_only)
        if refused is not None:
            problems.append(
                FieldProblem(("body", "channel_ids", i), refused, channel_id=channel.id)
            )
        if scheduling and channel.status == ChannelStatus.disabled:
            problems.append(
                FieldProblem(
                    ("body", "channel_ids", i),
                    f"channel {channel.name!r} is disabled",
                    channel_id=channel.id,
                )
            )
    return problems


def _request(
    draft: Draft,
    resolved: Resolved,
    post_id: str,
    media_dir: Path,
    base_url: str,
    platform: str,
    version: dict[str, str] | None = None,
) -> PublishRequest:
    # Checked as it will go out: with the links this platform's copy gets.
    tracked = utm.tracking(draft.utm, sorted(resolved.objectives, key=lambda o: (o.name, o.id)))
    request = publish_request(
        delivery_id="",
        post_id=post_id,
        text=draft.text,
        title=draft.title,
        link=draft.link,
        media=resolved.media,
        objectives=resolved.objectives,
        scheduled_at=draft.scheduled_at,
        internal_only=draft.internal_only,
        media_dir=media_dir,
        base_url=base_url,
    )
    # The channel's own version first: its link and text are the ones tagged.
    return utm.apply(versions.apply(request, version), platform, tracked)


def _platform_problems(
    draft: Draft,
    resolved: Resolved,
    *,
    post_id: str,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules,
) -> list[FieldProblem]:
    """Each chosen channel's platform rules (length, media, ...), for scheduled posts.

    `rules` answers them once per (platform, content), outside any write transaction
    (app/posts/rules.py); a batch of posts with the same text is checked once."""
    if draft.state != PostState.scheduled:
        return []
    # Everything but the ids: post ids have one length, so its URL's length is the same.
    content = (
        draft.text,
        draft.title,
        draft.link,
        tuple(m.id for m in resolved.media),
        tuple((o.id, o.name, o.utm, o.utm_template) for o in resolved.objectives),
        draft.scheduled_at,
        draft.internal_only,
        draft.utm,
    )
    problems = []
    for channel in resolved.channels:
        platform = get_platform(channel.platform)
        version = draft.versions.get(channel.id)
        answers = rules.problems(
            channel.platform,
            (*content, tuple(sorted((version or {}).items()))),
            partial(
                _request, draft, resolved, post_id, media_dir, base_url, channel.platform, version
            ),
            channel.config,
        )
        problems += [
            FieldProblem(
                # A field the channel's version sets is named in the version.
                ("body", "versions", channel.id, problem.field)
                if version and problem.field in version
                else ("body", problem.field),
                f"{channel.name} ({platform.label}): {problem.message}",
                type="platform_rule",
                channel_id=channel.id,
            )
            for problem in answers
        ]
    return problems


def _part_problems(
    draft: Draft, resolved: Resolved, post_id: str, rules: PlatformRules | None
) -> list[FieldProblem]:
    """A thread or first comment its channels cannot take; with `rules`, for a scheduled
    post, each thread part X refuses (app/exchange/threads.py)."""
    if rules is not None and draft.state != PostState.scheduled:
        return []
    return threads.problems(
        thread=draft.thread,
        first_comment=draft.first_comment,
        channels=resolved.channels,
        post_id=post_id,
        rules=rules,
    )


def _check(
    draft: Draft,
    found: Found,
    *,
    post_id: str,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules,
) -> tuple[Resolved, list[FieldProblem]]:
    """Every rule a post must meet to be stored; platform rules only once the rest hold."""
    resolved, problems = _resolve(draft, found)
    problems += _scheduling_problems(draft) + _usability_problems(draft, resolved)
    problems += [
        FieldProblem(
            ("body", "versions", channel_id),
            "has a version but is not one of the post's channels (channel_ids)",
        )
        for channel_id in versions.strays(draft.versions, draft.channel_ids)
    ]
    problems += _part_problems(draft, resolved, post_id, None)
    if not problems:
        problems = _platform_problems(
            draft, resolved, post_id=post_id, media_dir=media_dir, base_url=base_url, rules=rules
        ) + _part_problems(draft, resolved, post_id, rules)
    return resolved, problems


def _resolve_and_check(
    session: Session,
    draft: Draft,
    *,
    media_dir: Path,
    base_url: str,
    post_id: str,
    rules: PlatformRules,
) -> Resolved:
    """Every rule a post must meet to be stored; raises InvalidInput naming each problem."""
    resolved, problems = _check(
        draft,
        _find(session, [draft]),
        post_id=post_id,
        media_dir=media_dir,
        base_url=base_url,
        rules=rules,
    )
    if problems:
        raise InvalidInput(problems)
    return resolved


def _scheduled_at(
    scheduled_at: datetime | None, publish_now: bool, *, now: datetime, changing: bool
) -> datetime | None:
    if publish_now:
        if scheduled_at is not None:
            raise InvalidInput(
                [
                    FieldProblem(
                        ("body", "publish_now"), "give scheduled_at or publish_now, not both"
                    )
                ]
            )
        return now.astimezone(UTC)
    if changing and scheduled_at is not None and scheduled_at < now - PAST_GRACE:
        raise InvalidInput(
            [
                FieldProblem(
                    ("body", "scheduled_at"),
                    f"{scheduled_at.isoformat()} is in the past; to publish at once, send publish_now: true",
                )
            ]
        )
    return scheduled_at.astimezone(UTC) if scheduled_at is not None else None


def _write_links(session: Session, post: Post, resolved: Resolved) -> None:
    post.objectives = list(resolved.objectives)
    post.media_links = [PostMedia(media_id=m.id, position=i) for i, m in enumerate(resolved.media)]


def _sync_deliveries(post: Post, channels: list[Channel], *, now: datetime) -> None:
    """One delivery per chosen channel, reset to the post's state and time.

    Existing deliveries keep their id (it is the idempotency key), which is safe
    because none of them can have been published (see LOCKED).
    """
    wanted = {c.id for c in channels}
    by_channel = {d.channel_id: d for d in post.deliveries}
    post.deliveries = [d for d in post.deliveries if d.channel_id in wanted]
    change = transitions.schedule(
        scheduled=post.state == PostState.scheduled, at=post.scheduled_at, now=now
    )
    for channel in channels:
        delivery = by_channel.get(channel.id)
        if delivery is None:
            post.deliveries.append(
                transitions.new_delivery(change, channel_id=channel.id, created_at=now)
            )
        else:
            transitions.apply(delivery, change)


def _draft(data: PostCreate, *, now: datetime) -> Draft:
    state = PostState(data.status)
    return Draft(
        text=data.text,
        title=data.title,
        link=data.link,
        media_ids=_unique(data.media_ids),
        objective_ids=_unique(data.objective_ids),
        channel_ids=_unique(data.channel_ids),
        scheduled_at=_scheduled_at(
            data.scheduled_at, data.publish_now, now=now, changing=state == PostState.scheduled
        ),
        internal_only=data.internal_only,
        state=state,
        utm=data.utm,
        versions=versions.cleaned(data.versions),
        thread=tuple(data.thread),
        first_comment=data.first_comment or None,
    )


def _new_post(draft: Draft, *, user: User, now: datetime) -> Post:
    return Post(
        id=new_id(),
        text=draft.text,
        title=draft.title,
        link=draft.link,
        internal_only=draft.internal_only,
        utm=draft.utm,
        versions=draft.versions,
        thread=list(draft.thread),
        first_comment=draft.first_comment,
        state=draft.state,
        scheduled_at=draft.scheduled_at,
        created_by_id=user.id,
        updated_by_id=user.id,
        created_at=now,
        updated_at=now,
    )


def _store(session: Session, post: Post, resolved: Resolved, *, now: datetime) -> None:
    session.add(post)
    _write_links(session, post, resolved)
    _sync_deliveries(post, resolved.channels, now=now)


def check_create(
    session: Session,
    *,
    data: PostCreate,
    now: datetime,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules,
) -> None:
    """create's read phase: every rule but the platforms', which `rules` records."""
    _resolve_and_check(
        session,
        _draft(data, now=now),
        media_dir=media_dir,
        base_url=base_url,
        post_id=new_id(),
        rules=rules,
    )


def create(
    session: Session,
    *,
    data: PostCreate,
    user: User,
    now: datetime,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules | None = None,
) -> Post:
    """Without `rules` (planned by `check_create`, run by rules.run_outside_transaction),
    the platforms' rules run here, inside the caller's transaction."""
    draft = _draft(data, now=now)
    post = _new_post(draft, user=user, now=now)
    resolved = _resolve_and_check(
        session,
        draft,
        media_dir=media_dir,
        base_url=base_url,
        post_id=post.id,
        rules=rules or PlatformRules(inline=True),
    )
    _store(session, post, resolved, now=now)
    session.flush()
    return post


def _at_index(index: int, problems: list[FieldProblem]) -> list[FieldProblem]:
    """A post's problems located in the batch: body.posts.<index>.<field>."""
    return [
        FieldProblem(("body", "posts", index, *p.loc[1:]), p.msg, p.type, p.channel_id)
        for p in problems
    ]


def _plan_many(
    session: Session,
    *,
    items: Sequence[PostCreate],
    user: User,
    now: datetime,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules,
    build: bool = True,
) -> list[tuple[Post, Resolved]]:
    """The posts of a batch, checked; every problem of every post is named, by index.

    build=False (the read phase) checks without making the posts' ORM objects, which
    is a third of the CPU a 5,000-post batch takes (bench: spreadsheet import)."""
    drafts: list[Draft | None] = []
    problems: list[FieldProblem] = []
    for index, data in enumerate(items):
        try:
            drafts.append(_draft(data, now=now))
        except InvalidInput as exc:
            drafts.append(None)
            problems += _at_index(index, exc.problems)
    found = _find(session, [d for d in drafts if d is not None])
    ready: list[tuple[Post, Resolved]] = []
    for index, draft in enumerate(drafts):
        if draft is None:
            continue
        post = _new_post(draft, user=user, now=now) if build else None
        resolved, more = _check(
            draft,
            found,
            post_id=post.id if post is not None else new_id(),
            media_dir=media_dir,
            base_url=base_url,
            rules=rules,
        )
        problems += _at_index(index, more)
        if post is not None:
            ready.append((post, resolved))
    if problems:
        raise InvalidInput(problems)
    return ready


def check_create_many(
    session: Session,
    *,
    items: Sequence[PostCreate],
    user: User,
    now: datetime,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules,
) -> None:
    """create_many's read phase: every rule but the platforms', which `rules` records.

    Problems found here are not raised: the write phase names them again, together
    with the platforms' (a batch answers every problem of every post at once)."""
    with contextlib.suppress(InvalidInput):
        _plan_many(
            session,
            items=items,
            user=user,
            now=now,
            media_dir=media_dir,
            base_url=base_url,
            rules=rules,
            build=False,
        )


def create_many(
    session: Session,
    *,
    items: Sequence[PostCreate],
    user: User,
    now: datetime,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules | None = None,
) -> list[Post]:
    """Create every post or none: all problems of all posts are named, by index.

    The rows the posts name are loaded once, each platform rule runs once per distinct
    content, and the posts are written in one flush (bulk INSERTs)."""
    ready = _plan_many(
        session,
        items=items,
        user=user,
        now=now,
        media_dir=media_dir,
        base_url=base_url,
        rules=rules or PlatformRules(inline=True),
    )
    for post, resolved in ready:
        _store(session, post, resolved, now=now)
    session.flush()
    return [post for post, _ in ready]


def _locked_post(session: Session, post_id: str) -> Post:
    """The post with its deliveries locked against the dispatcher's claim (PostgreSQL)."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("post", post_id)
    # FOR UPDATE: a claim either happened before (we see publishing) or waits for us.
    # SQLite serialises writers with BEGIN IMMEDIATE, so it needs no lock here.
    session.scalars(select(Delivery).where(Delivery.post_id == post_id).with_for_update()).all()
    session.refresh(post, attribute_names=["deliveries"])
    return post


def _ensure_editable(post: Post, verb: str) -> None:
    if post.state == PostState.cancelled:
        raise Conflict(f"the post is cancelled and cannot be {verb}")
    locked = [d for d in post.deliveries if d.status in LOCKED]
    if locked:
        states = ", ".join(sorted({d.status for d in locked}))
        raise Conflict(f"the post cannot be {verb}: a delivery is {states}")
    # exchange: a thread or first comment partly out goes on with a retry, as it was.
    if verb == "edited" and any(getattr(d, "parts", None) for d in post.deliveries):
        raise Conflict(
            "the post cannot be edited: part of it is out (see the delivery's parts); "
            "retry the delivery to send the rest"
        )


def _update_draft(post: Post, data: PostUpdate, now: datetime) -> Draft:
    changes = patch_fields(data, nullable=NULLABLE_ON_PATCH)
    publish_now = bool(changes.pop("publish_now", False))
    # With publish_now, only a scheduled_at in this body is a clash, not the stored one.
    new_time = changes.get("scheduled_at", None if publish_now else post.scheduled_at)
    state = PostState(changes.get("status", post.state))
    if state == PostState.pending_approval:
        # Checked as the scheduled post it asks to be; app/team/approval holds it again.
        state = PostState.scheduled
    channel_ids = _unique(changes.get("channel_ids", [d.channel_id for d in _deliveries(post)]))
    return Draft(
        text=changes.get("text", post.text),
        title=changes.get("title", post.title),
        link=changes.get("link", post.link),
        media_ids=_unique(changes.get("media_ids", [m.media_id for m in post.media_links])),
        objective_ids=_unique(changes.get("objective_ids", [o.id for o in _objectives(post)])),
        channel_ids=channel_ids,
        scheduled_at=_scheduled_at(
            new_time,
            publish_now,
            now=now,
            # A post left at its time is not refused for being in the past (e.g. a
            # failed post whose text is being fixed); moving it there is.
            changing=state == PostState.scheduled
            and ("scheduled_at" in changes or state != post.state),
        ),
        internal_only=changes.get("internal_only", post.internal_only),
        state=state,
        utm=changes.get("utm", post.utm),
        versions=versions.cleaned(changes["versions"])
        if "versions" in changes
        else versions.kept_for(post.versions or {}, channel_ids),
        thread=tuple(changes.get("thread", post.thread or [])),
        first_comment=changes.get("first_comment", post.first_comment) or None,
    )


def check_update(
    session: Session,
    *,
    post_id: str,
    data: PostUpdate,
    now: datetime,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules,
) -> None:
    """update's read phase (no lock taken): every rule but the platforms', which
    `rules` records."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("post", post_id)
    _ensure_editable(post, "edited")
    _resolve_and_check(
        session,
        _update_draft(post, data, now),
        media_dir=media_dir,
        base_url=base_url,
        post_id=post.id,
        rules=rules,
    )


def update(
    session: Session,
    *,
    post_id: str,
    data: PostUpdate,
    user: User,
    now: datetime,
    media_dir: Path,
    base_url: str,
    rules: PlatformRules | None = None,
) -> Post:
    """Without `rules` (planned by `check_update`, run by rules.run_outside_transaction),
    the platforms' rules run here, inside the caller's transaction."""
    post = _locked_post(session, post_id)
    _ensure_editable(post, "edited")
    draft = _update_draft(post, data, now)
    resolved = _resolve_and_check(
        session,
        draft,
        media_dir=media_dir,
        base_url=base_url,
        post_id=post.id,
        rules=rules or PlatformRules(inline=True),
    )
    post.text, post.title, post.link = draft.text, draft.title, draft.link
    post.internal_only, post.state, post.scheduled_at = (
        draft.internal_only,
        draft.state,
        draft.scheduled_at,
    )
    post.utm, post.versions = draft.utm, draft.versions
    post.thread, post.first_comment = list(draft.thread), draft.first_comment
    post.updated_by_id, post.updated_at = user.id, now
    _write_links(session, post, resolved)
    _sync_deliveries(post, resolved.channels, now=now)
    session.flush()
    return post


def cancel(session: Session, *, post_id: str, user: User, now: datetime) -> Post:
    post = _locked_post(session, post_id)
    _ensure_editable(post, "cancelled")
    post.state = PostState.cancelled
    post.updated_by_id, post.updated_at = user.id, now
    change = transitions.cancel(now=now)
    for delivery in post.deliveries:
        if change.allows(delivery.status, delivery.lease_owner):
            transitions.apply(delivery, change)
    session.flush()
    return post


def retry_delivery(session: Session, *, delivery_id: str, now: datetime) -> Delivery:
    delivery = session.scalars(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update()
    ).one_or_none()
    if delivery is None:
        raise NotFound("delivery", delivery_id)
    post = session.get(Post, delivery.post_id)
    if post is None:
        raise NotFound("post", delivery.post_id)
    if post.state != PostState.scheduled:
        raise Conflict(
            f"the post is {post.state}; only deliveries of scheduled posts can be retried"
        )
    if delivery.status not in RETRYABLE:
        raise Conflict(
            f"only failed or unknown deliveries can be retried; this one is {delivery.status}"
        )
    transitions.apply(delivery, transitions.reset_for_retry(now=now))
    session.flush()
    return delivery


def _with_status(query: Select[Any]) -> Select[Any]:
    return query.add_columns(post_status().label("status")).options(
        selectinload(Post.deliveries), selectinload(Post.media_links), selectinload(Post.objectives)
    )


def written_out(post: Post) -> PostOut:
    """A post just created, answered from what was written instead of reading it back:
    all its deliveries are new (draft or scheduled), so its status follows its state."""
    if post.state in (PostState.draft, PostState.pending_approval):
        return to_out(post, PostStatus(post.state))
    return to_out(post, PostStatus.scheduled)


def get(session: Session, post_id: str) -> PostOut:
    row = session.execute(_with_status(select(Post).where(Post.id == post_id))).first()
    if row is None:
        raise NotFound("post", post_id)
    return to_out(row[0], row[1])


def calendar(
    session: Session,
    *,
    start: datetime | None,
    end: datetime | None,
    objective_id: str | None,
    channel_id: str | None,
    status: PostStatus | None,
    limit: int,
    offset: int,
    series_id: str | None = None,
) -> tuple[list[PostOut], int]:
    # planning: library (evergreen) posts are not on the calendar, except in the
    # approval queue (status=pending_approval), where a library post waits too.
    query = select(Post).where(Post.kind == PostKind.post)
    if status != PostStatus.pending_approval:
        query = query.where(Post.evergreen.is_(False))
    if series_id is not None:
        # planning: a series' occurrences; its cancelled ones only when asked for.
        query = query.where(Post.series_id == series_id)
        if status is None:
            query = query.where(Post.state != PostState.cancelled)
    if start is not None:
        query = query.where(Post.scheduled_at >= start)
    if end is not None:
        query = query.where(Post.scheduled_at < end)
    if objective_id is not None:
        query = query.where(
            Post.id.in_(
                select(post_objectives.c.post_id).where(
                    post_objectives.c.objective_id == objective_id
                )
            )
        )
    if channel_id is not None:
        query = query.where(
            Post.id.in_(select(Delivery.post_id).where(Delivery.channel_id == channel_id))
        )
    if status is not None:
        query = query.where(post_status() == status.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        _with_status(query.order_by(Post.scheduled_at.is_(None), Post.scheduled_at, Post.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return [to_out(post, st) for post, st in rows], total


# The order every answer lists a post's channels and objectives in, and the one a
# problem's index refers to. Applied in Python, not only in SQL, because a post just
# written holds its collections in the order they were built.
def _deliveries(post: Post) -> list[Delivery]:
    return sorted(post.deliveries, key=lambda d: (d.created_at, d.id))


def _objectives(post: Post) -> list[Objective]:
    return sorted(post.objectives, key=lambda o: (o.name, o.id))


def to_out(post: Post, status: str) -> PostOut:
    deliveries = _deliveries(post)
    return PostOut(
        id=post.id,
        text=post.text,
        title=post.title,
        link=post.link,
        media_ids=[m.media_id for m in post.media_links],
        objective_ids=[o.id for o in _objectives(post)],
        channel_ids=[d.channel_id for d in deliveries],
        scheduled_at=post.scheduled_at,
        internal_only=post.internal_only,
        utm=post.utm,
        versions={k: VersionOut(**v) for k, v in (post.versions or {}).items()},
        thread=list(post.thread or []),
        first_comment=post.first_comment,
        status=PostStatus(status),
        created_by_id=post.created_by_id,
        updated_by_id=post.updated_by_id,
        created_at=post.created_at,
        updated_at=post.updated_at,
        deliveries=[DeliveryOut.model_validate(d) for d in deliveries],
        series_id=post.series_id,
        evergreen=post.evergreen,
        library_held=post.library_held,
        filled_from=post.filled_from,
        auto_filled=post.auto_filled,
    )
