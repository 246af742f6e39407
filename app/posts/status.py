"""A post's status, derived from its state and its deliveries' statuses.

One SQL expression is the only definition, so the calendar can filter on it and
every answer shows the same status.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, not_

from app.posts.models import Delivery, DeliveryStatus, Post, PostState


class PostStatus(StrEnum):
    draft = "draft"
    pending_approval = "pending_approval"
    scheduled = "scheduled"
    publishing = "publishing"
    published = "published"
    partially_published = "partially_published"
    failed = "failed"
    cancelled = "cancelled"
    needs_review = "needs_review"


def _any(*statuses: str) -> ColumnElement[bool]:
    return exists().where(and_(Delivery.post_id == Post.id, Delivery.status.in_(statuses)))


def post_status() -> ColumnElement[Any]:
    pending = _any(DeliveryStatus.scheduled, DeliveryStatus.retrying, DeliveryStatus.waiting)
    published = _any(DeliveryStatus.published)
    failed = _any(DeliveryStatus.failed)
    return case(
        (Post.state == PostState.draft, PostStatus.draft.value),
        (Post.state == PostState.cancelled, PostStatus.cancelled.value),
        # Waiting for an editor (app/team/approval.py); failed once its time passed.
        (
            and_(Post.state == PostState.pending_approval, not_(failed)),
            PostStatus.pending_approval.value,
        ),
        (_any(DeliveryStatus.publishing), PostStatus.publishing.value),
        # An unknown outcome needs a person before anything else is said of the post.
        (_any(DeliveryStatus.unknown), PostStatus.needs_review.value),
        (and_(pending, published | failed), PostStatus.publishing.value),
        (pending, PostStatus.scheduled.value),
        (and_(published, failed), PostStatus.partially_published.value),
        (published, PostStatus.published.value),
        (failed, PostStatus.failed.value),
        (not_(_any(*DeliveryStatus)), PostStatus.scheduled.value),
        else_=PostStatus.cancelled.value,
    )
