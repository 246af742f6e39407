"""Which objective-days are blacked out: read by coverage (app/coverage/service.py),
so kept apart from the blackout endpoints, which recount coverage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.planning.models import Blackout


@dataclass(frozen=True)
class DaysOff:
    """The blackouts over some days, asked per objective and day."""

    spans: tuple[tuple[date, date, str | None, str], ...] = ()

    def reason(self, objective_id: str, day: date) -> str | None:
        for start, end, oid, reason in self.spans:
            if start <= day <= end and oid in (None, objective_id):
                return reason or "blackout"
        return None

    def __contains__(self, key: tuple[str, date]) -> bool:
        return self.reason(*key) is not None


def days_off(session: Session, objective_ids: Iterable[str], start: date, end: date) -> DaysOff:
    ids = list(set(objective_ids))
    rows = session.execute(
        select(Blackout.date_from, Blackout.date_to, Blackout.objective_id, Blackout.reason).where(
            Blackout.date_from <= end,
            Blackout.date_to >= start,
            or_(Blackout.objective_id.is_(None), Blackout.objective_id.in_(ids)),
        )
    ).all()
    return DaysOff(tuple((r[0], r[1], r[2], r[3]) for r in rows))


NO_DAYS_OFF = DaysOff()
