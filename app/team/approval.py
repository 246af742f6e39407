"""Approval: which scheduled posts wait for an editor, and approving or rejecting them.

Rule (issue 12): a post a contributor schedules waits (`pending_approval`); so does a
post matching a `require_approval` guardrail, whoever wrote it; an editor's or admin's
post to a channel that `requires_approval` waits only with CADENCE_APPROVAL_FOR_EDITORS
(otherwise scheduling it is their approval). A pending post's deliveries are drafts, so
the dispatcher never claims them; approval schedules them. Changing the text, media,
channels or time of an approved post re-applies the rule; other edits (objectives)
leave it approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.config import Settings
from app.errors import Conflict, NotFound
from app.posts.models import DeliveryStatus, Post, PostState
from app.publishing import transitions
from app.team.audit import Action, Subject, record, sortable_id
from app.team.models import Comment
from app.users.models import Role, User
from app.users.roles import has_role

# The fields whose change makes an approved post ask again.
CONTENT_FIELDS = ("text", "title", "link", "media_ids", "channel_ids", "scheduled_at")


@dataclass(frozen=True)
class Snapshot:
    """A post's audited fields at one moment (before a change, to compare with after)."""

    fields: dict[str, Any]

    @property
    def state(self) -> str:
        return str(self.fields["state"])

    def content(self) -> tuple[Any, ...]:
        return tuple(self.fields[f] for f in CONTENT_FIELDS)


def snapshot(post: Post) -> Snapshot:
    return Snapshot(
        {
            "text": post.text,
            "title": post.title,
            "link": post.link,
            "internal_only": post.internal_only,
            "state": str(post.state),
            "scheduled_at": post.scheduled_at,
            "media_ids": [m.media_id for m in post.media_links],
            "objective_ids": sorted(o.id for o in post.objectives),
            "channel_ids": sorted(d.channel_id for d in post.deliveries),
        }
    )


def needs_approval(
    user: User, channels: list[Channel], *, settings: Settings, guarded: bool
) -> bool:
    """Whether a post `user` schedules to `channels` waits for an approver."""
    if guarded or not has_role(user, Role.editor):
        return True
    return settings.approval_for_editors and any(c.requires_approval for c in channels)


def _hold(post: Post, *, now: datetime) -> None:
    post.state = PostState.pending_approval
    change = transitions.schedule(scheduled=False, at=None, now=now)
    for delivery in post.deliveries:
        transitions.apply(delivery, change)


def settle(
    post: Post,
    channels: list[Channel],
    *,
    user: User,
    settings: Settings,
    before: Snapshot | None,
    guarded: bool,
    now: datetime,
    approved: bool = False,
) -> bool:
    """After a post was written as `scheduled`: hold it for approval if the rule says
    so. Returns whether it now waits (and was not waiting before)."""
    if post.state != PostState.scheduled:
        return False
    was_pending = before is not None and before.state == PostState.pending_approval
    # A (re)submission, or an approved post whose content changed.
    changed = (
        before is None
        or before.state != PostState.scheduled
        or before.content() != snapshot(post).content()
    )
    # `approved`: a copy of an approved library post (planning) asks no approver again.
    wanted = not approved and needs_approval(user, channels, settings=settings, guarded=guarded)
    # Someone else's pending post stays pending until approved through approve().
    if (changed and wanted) or (was_pending and post.created_by_id != user.id):
        _hold(post, now=now)
        return not was_pending
    return False


def _pending(session: Session, post_id: str) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("post", post_id)
    if post.state != PostState.pending_approval:
        raise Conflict(f"the post is {post.state}, not pending approval")
    return post


def approve(session: Session, *, post_id: str, user: User, now: datetime) -> Post:
    """Schedule a pending post. The author may not approve their own (403)."""
    post = _pending(session, post_id)
    if post.created_by_id == user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you cannot approve your own post")
    if any(d.status == DeliveryStatus.failed for d in post.deliveries):
        raise Conflict("its time passed while it waited: give it a new time, then approve it")
    post.updated_at = now
    if post.evergreen:
        # planning: an approved library post goes back to its library (a draft with no
        # time) where auto-fill may now copy it; its deliveries stay drafts.
        post.state, post.library_held = PostState.draft, False
    else:
        post.state = PostState.scheduled
        change = transitions.schedule(scheduled=True, at=post.scheduled_at, now=now)
        for delivery in post.deliveries:
            transitions.apply(delivery, change)
    record(
        session,
        actor=user,
        action=Action.approve,
        subject=Subject.post,
        subject_id=post.id,
        now=now,
        changes={"status": ["pending_approval", str(post.state)]},
    )
    session.flush()
    return post


def reject(session: Session, *, post_id: str, user: User, comment: str, now: datetime) -> Post:
    """Send a pending post back to its author as a draft, with the reason as a comment."""
    post = _pending(session, post_id)
    post.state = PostState.draft
    post.updated_at = now
    change = transitions.schedule(scheduled=False, at=None, now=now)
    for delivery in post.deliveries:
        if change.allows(delivery.status, delivery.lease_owner):
            transitions.apply(delivery, change)
    session.add(Comment(id=sortable_id(), post_id=post.id, author_id=user.id, text=comment, at=now))
    record(
        session,
        actor=user,
        action=Action.reject,
        subject=Subject.post,
        subject_id=post.id,
        now=now,
        changes={"status": ["pending_approval", "draft"], "comment": [None, comment]},
    )
    session.flush()
    return post
