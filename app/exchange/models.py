"""Secret calendar feeds: a person's posts as an iCalendar file at a URL with a token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdColumn, UTCDateTime, new_id


class CalendarFeed(Base):
    """Only the token's SHA-256 is stored, as for API tokens: the URL is shown once."""

    __tablename__ = "calendar_feeds"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
