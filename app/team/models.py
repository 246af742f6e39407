"""Tables of the team workflow: comments on posts, the audit trail, guardrails."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdColumn, UTCDateTime, new_id


class Comment(Base):
    """One message in a post's thread (a rejection's reason is one too)."""

    __tablename__ = "post_comments"
    __table_args__ = (Index("ix_post_comments_post_id_at", "post_id", "at"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Append-only: written by app.team.audit.record, never updated or deleted.

    No foreign keys on purpose: the trail outlives the users, tokens and subjects it
    names (a deleted objective's history stays readable)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_subject", "subject_type", "subject_id", "at"),
        Index("ix_audit_entries_actor", "actor_id", "at"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[str | None] = mapped_column(IdColumn())
    actor_email: Mapped[str | None] = mapped_column(String(320))
    token_id: Mapped[str | None] = mapped_column(IdColumn())
    action: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


class GuardrailAudience(StrEnum):
    external = "external"
    all = "all"


class GuardrailAction(StrEnum):
    block = "block"
    require_approval = "require_approval"


class Guardrail(Base):
    __tablename__ = "guardrails"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    phrase: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TwophyAward(Base):
    """One row per ISO week: who won the Twophy, and the announcement post. The week is
    the key, so however many processes try, one award (and one announcement) is made."""

    __tablename__ = "twophy_awards"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    post_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    published: Mapped[int] = mapped_column(Integer, default=0)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime())
