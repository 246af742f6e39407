from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.db import Base, IdColumn, UTCDateTime, new_id
from app.exchange.utm import DEFAULT_TEMPLATE


class Objective(Base):
    __tablename__ = "objectives"

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The name casefolded, unique: "Ärger" and "ärger" are one objective. Kept here,
    # not as lower(name) in SQL, because SQLite's lower() folds ASCII letters only.
    name_key: Mapped[str] = mapped_column(String(300), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    color: Mapped[str] = mapped_column(String(7))
    min_posts_per_day: Mapped[int] = mapped_column(Integer, default=1)
    active_weekdays: Mapped[list[int]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # insights: links in its posts go out as counting redirects (CADENCE_BASE_URL/l/...)
    track_clicks: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # exchange: tracked links (app/exchange/utm.py)
    utm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    utm_template: Mapped[str] = mapped_column(
        String(500), default=DEFAULT_TEMPLATE, server_default=DEFAULT_TEMPLATE
    )
    # planning: fill uncovered days from the evergreen library (app/planning/autofill.py):
    # off, suggest (a one-click action on the alert) or schedule (at once).
    autofill: Mapped[str] = mapped_column(String(16), default="off", server_default="off")
    autofill_ahead_days: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @validates("name")
    def _keep_name_key(self, _: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


def name_key(name: str) -> str:
    """What two objective names must not share (casefold grows a character to 3 at most)."""
    return name.casefold()
