"""Secret calendar feeds: a person's posts as an iCalendar file at a URL with a token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.db import Base, IdColumn, UTCDateTime, new_id
from app.posts.models import Delivery


class CalendarFeed(Base):
    """Only the token's SHA-256 is stored, as for API tokens: the URL is shown once."""

    __tablename__ = "calendar_feeds"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryPart(Base):
    """A part of a delivery that is out: 0 the post, 1... its X thread's replies or
    its Facebook first comment. Written the moment a part is published, in its own
    transaction, so a failure later lists it and a retry never sends it again."""

    __tablename__ = "delivery_parts"

    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200))
    permalink: Mapped[str | None] = mapped_column(String(2048))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # Delivery.parts (a backref: the delivery model stays as it is), in order.
    delivery: Mapped[Delivery] = relationship(
        backref=backref("parts", lazy="selectin", order_by="DeliveryPart.index"),
    )
