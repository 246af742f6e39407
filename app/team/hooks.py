"""Where the team workflow joins a post's write (app/posts/flows.py calls these inside
the write's savepoint): guardrails checked, approval decided, the audit trail written.
A guardrail's 422 rolls the savepoint back, so nothing of the post is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.config import Settings
from app.posts.models import Post
from app.team import approval, guardrails
from app.team.audit import Action, Subject, diff, record
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
    channels = [c for d in post.deliveries if (c := session.get(Channel, d.channel_id))]
    found = guardrails.matches(
        session, text=post.text, title=post.title, link=post.link, channels=channels
    )
    guarded = guardrails.enforce(found)
    submitted = approval.settle(
        session, post, user=user, settings=settings, before=before, guarded=guarded, now=now
    )
    after = approval.snapshot(post).fields
    changes = diff(before.fields if before is not None else {}, after)
    action = Action.create if before is None else Action.update
    if changes:
        record(
            session,
            actor=user,
            action=action,
            subject=Subject.post,
            subject_id=post.id,
            now=now,
            changes=changes,
        )
    if submitted:
        record(
            session,
            actor=user,
            action=Action.submit,
            subject=Subject.post,
            subject_id=post.id,
            now=now,
            changes={"status": [None, "pending_approval"]},
        )


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
