"""The pause switch: one row, read by every claim, so pausing in one process stops
claims in every process at its next claim (within one dispatch interval).

Pausing opens a `publishing_paused` alert and resuming resolves it: the alert
announcements carry both to the alert channels, exactly once, like any alert (they
are never held by the pause). Deliveries held while paused stay pending: those whose
window passes meanwhile end `missed_window` at the next claim, as usual, and on
resume the rest are claimed once each, as always.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import AlertKind
from app.alerts.service import open_alert, resolve_alert
from app.planning.models import PauseScope, PauseSwitch
from app.planning.schemas import PauseIn, PauseOut
from app.runtime import Runtime
from app.users.models import User

SWITCH_ID = 1
ALERT_KEY = "switch"
SCOPE_WORDS = {PauseScope.all: "every post", PauseScope.external: "posts to external channels"}


def current(session: Session) -> PauseSwitch | None:
    return session.get(PauseSwitch, SWITCH_ID)


def paused_scope(session: Session) -> str | None:
    """What the claim reads: "all", "external" or None (a Core read, no ORM state)."""
    return session.connection().scalar(select(PauseSwitch.scope).where(PauseSwitch.id == SWITCH_ID))


def pause(session: Session, *, data: PauseIn, user: User, now: datetime) -> PauseSwitch:
    """Pause (or change the scope and reason of the pause under way)."""
    switch = current(session)
    if switch is None:
        switch = PauseSwitch(id=SWITCH_ID)
        session.add(switch)
    switch.scope, switch.reason = data.scope, data.reason
    switch.paused_by_id, switch.paused_at = user.id, now
    session.flush()
    open_alert(
        session,
        kind=AlertKind.publishing_paused,
        key=ALERT_KEY,
        message=f"Publishing paused ({SCOPE_WORDS[PauseScope(data.scope)]}) by {user.email}: "
        f"{data.reason}",
        now=now,
    )
    return switch


def resume(session: Session, *, now: datetime) -> None:
    switch = current(session)
    if switch is not None:
        session.delete(switch)
        session.flush()
    resolve_alert(session, kind=AlertKind.publishing_paused, key=ALERT_KEY, now=now)


def to_out(session: Session, switch: PauseSwitch | None) -> PauseOut:
    if switch is None:
        return PauseOut(paused=False)
    user = session.get(User, switch.paused_by_id) if switch.paused_by_id else None
    return PauseOut(
        paused=True,
        scope=switch.scope,
        reason=switch.reason,
        paused_by_id=switch.paused_by_id,
        paused_by=user.email if user is not None else None,
        paused_at=switch.paused_at,
    )


def pause_state(runtime: Runtime, session: Session | None) -> PauseOut:
    """For the switch in every page's header: the request's session, or a short read."""
    if session is not None:
        return to_out(session, current(session))
    with runtime.read_sessions() as reading:
        return to_out(reading, current(reading))
