"""Where the team workflow joins a post's write (app/posts/flows.py calls these inside
the write's savepoint): guardrails checked, approval decided, the audit trail written.
A guardrail's 422 rolls the savepoint back, so nothing of the post is stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.config import Settings
from app.errors import FieldProblem, InvalidInput
from app.posts.models import Post
from app.team import approval, guardrails
from app.team.audit import Action, Subject, diff, entry_row, record, record_rows
from app.users.models import User


def before_update(session: Session, post_id: str) -> approval.Snapshot | None:
    post = session.get(Post, post_id)
    return approval.snapshot(post) if post is not None else None


def after_write(
    session: Session,
    post: Post,
    *,
    user: User,
    settings: Settings,
    before: approval.Snapshot | None,
    now: datetime,
) -> None:
    after_writes(session, [post], user=user, settings=settings, before=before, now=now, batch=False)


def after_writes(
    session: Session,
    posts: Sequence[Post],
    *,
    user: User,
    settings: Settings,
    before: approval.Snapshot | None = None,
    now: datetime,
    batch: bool = True,
    approved: bool = False,
) -> None:
    """`batch`: the posts of POST /posts/batch, whose problems are located by index;
    `approved`: copies of an approved library post (planning), which never wait."""
    wanted = {d.channel_id for p in posts for d in p.deliveries}
    found = (
        {c.id: c for c in session.scalars(select(Channel).where(Channel.id.in_(wanted)))}
        if wanted
        else {}
    )
    matchers = guardrails.Matchers(session)
    problems: list[FieldProblem] = []
    rows: list[dict[str, Any]] = []
    for index, post in enumerate(posts):
        channels = [found[d.channel_id] for d in post.deliveries if d.channel_id in found]
        hits = matchers.matches(text=post.text, title=post.title, link=post.link, channels=channels)
        problems += guardrails.blocked(hits, ("body", "posts", index) if batch else ("body",))
        if problems:
            continue  # nothing will be stored: no more work for this batch
        submitted = approval.settle(
            post,
            channels,
            user=user,
            settings=settings,
            before=before,
            guarded=guardrails.wants_approval(hits),
            now=now,
            approved=approved,
        )
        rows += _audit(session, post, user=user, before=before, submitted=submitted, now=now)
    if problems:
        raise InvalidInput(problems)
    record_rows(session, rows)


def _audit(
    session: Session,
    post: Post,
    *,
    user: User,
    before: approval.Snapshot | None,
    submitted: bool,
    now: datetime,
) -> list[dict[str, Any]]:
    """The post's entries: what changed, and its submission for approval."""
    rows = []
    changes = diff(before.fields if before is not None else {}, approval.snapshot(post).fields)
    if changes:
        rows.append(
            entry_row(
                session,
                actor=user,
                action=Action.create if before is None else Action.update,
                subject=Subject.post,
                subject_id=post.id,
                now=now,
                changes=changes,
            )
        )
    if submitted:
        rows.append(
            entry_row(
                session,
                actor=user,
                action=Action.submit,
                subject=Subject.post,
                subject_id=post.id,
                now=now,
                changes={"status": [None, "pending_approval"]},
            )
        )
    return rows


def after_cancel(session: Session, post_id: str, *, user: User, now: datetime) -> None:
    record(
        session,
        actor=user,
        action=Action.cancel,
        subject=Subject.post,
        subject_id=post_id,
        now=now,
        changes={},
    )
