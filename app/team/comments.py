"""A post's comment thread (rejections' reasons are comments too)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.posts.models import Post
from app.team.audit import Action, Subject, record, sortable_id
from app.team.models import Comment
from app.team.schemas import CommentOut
from app.users.models import User


def _post(session: Session, post_id: str) -> Post:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound("post", post_id)
    return post


def thread(
    session: Session, post_id: str, *, limit: int, offset: int
) -> tuple[list[CommentOut], int]:
    """Oldest first, as a conversation reads."""
    _post(session, post_id)
    where = Comment.post_id == post_id
    total = session.scalar(select(func.count()).select_from(Comment).where(where)) or 0
    rows = session.execute(
        select(Comment, User.email)
        .outerjoin(User, User.id == Comment.author_id)
        .where(where)
        .order_by(Comment.at, Comment.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [out(c, email) for c, email in rows], total


def out(comment: Comment, email: str | None) -> CommentOut:
    return CommentOut(
        id=comment.id,
        at=comment.at,
        author_id=comment.author_id,
        author_email=email,
        text=comment.text,
    )


def add(session: Session, post_id: str, *, user: User, text: str, now: datetime) -> CommentOut:
    _post(session, post_id)
    comment = Comment(id=sortable_id(), post_id=post_id, author_id=user.id, text=text, at=now)
    session.add(comment)
    record(
        session,
        actor=user,
        action=Action.comment,
        subject=Subject.post,
        subject_id=post_id,
        now=now,
        changes={"comment": [None, text]},
    )
    session.flush()
    return out(comment, user.email)
