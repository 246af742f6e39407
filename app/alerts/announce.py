"""Announcing alerts to the alert channels, grouped into messages people read.

What needs action now (a missed day, a failed or unknown delivery, a channel that
needs reconnecting, a pause, today still uncovered after CADENCE_URGENT_AFTER local
time, and any kind not listed below as able to wait) goes out at once: one message per
run listing every such alert, grouped by objective. Days further ahead that are not
covered yet wait for one daily summary at CADENCE_SUMMARY_AT. Resolutions are folded
into the next message, never sent alone (a resumed pause excepted: it is news at once);
an alert that opens and resolves between two messages is never mentioned.

A message is a post of kind "alert" with one delivery per alert channel, so the
publishing engine sends it with the same exactly-once claims, retries and "unknown"
handling as any post. Exactly once across processes: each alert's opening and its
resolution are claimed by an UPDATE that sets `announced_open_at` or
`announced_resolved_at` only where still null (the process whose UPDATE returns the
row says it), and each day's summary by inserting its day into alert_digests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Update, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.alerts.models import Alert, AlertDigest, AlertKind
from app.channels.models import Channel, ChannelStatus
from app.db import new_id
from app.objectives.models import Objective
from app.posts.models import Post, PostKind, PostState
from app.publishing import transitions

BATCH = 500
# Kinds that can wait for the daily summary (today's uncovered day only until the
# urgent time). Every other kind, including ones added later, goes out at once.
CAN_WAIT = frozenset({AlertKind.objective_uncovered.value})
# Resolutions that are news by themselves.
NEWS_WHEN_RESOLVED = frozenset({AlertKind.publishing_paused.value})
OTHER = "Channels and deliveries"


@dataclass(frozen=True)
class Times:
    """When the summary goes and when today's gaps become urgent, in `zone`."""

    zone: str = "UTC"
    urgent_after: str = "12:00"
    summary_at: str = "09:00"

    @staticmethod
    def of(settings: object) -> Times:
        return Times(
            zone=getattr(settings, "timezone", "UTC"),
            urgent_after=getattr(settings, "urgent_after", "12:00"),
            summary_at=getattr(settings, "summary_at", "09:00"),
        )


def _clock(value: str) -> time:
    hour, minute = value.split(":")
    return time(int(hour), int(minute))


# Alerts an approver acts on in the "Awaiting approval" queue, not on one post's page.
TO_APPROVALS = frozenset({AlertKind.approval_requested.value, AlertKind.approval_overdue.value})


def alert_link(alert: Alert, base_url: str) -> str:
    base = base_url.rstrip("/")
    if alert.kind in TO_APPROVALS:
        return f"{base}/approvals"
    if alert.day is not None:
        return f"{base}/calendar?day={alert.day.isoformat()}"
    if alert.post_id is not None:
        return f"{base}/posts/{alert.post_id}"
    if alert.channel_id is not None:
        return f"{base}/channels/{alert.channel_id}"
    return f"{base}/alerts"


def is_urgent(alert: Alert, objective: Objective | None, *, now: datetime, times: Times) -> bool:
    """Whether the alert needs action now rather than in the daily summary."""
    if alert.kind not in CAN_WAIT:
        return True
    zone = ZoneInfo(objective.timezone if objective is not None else times.zone)
    local = now.astimezone(zone)
    return alert.day is not None and (
        alert.day < local.date()
        or (alert.day == local.date() and local.time() >= _clock(times.urgent_after))
    )


def _claim(session: Session, statement: Update) -> list[str]:
    return list(session.scalars(statement.returning(Alert.id)))


def _claim_openings(session: Session, ids: Sequence[str], now: datetime) -> list[str]:
    if not ids:
        return []
    return _claim(
        session,
        update(Alert)
        .where(Alert.id.in_(list(ids)), Alert.announced_open_at.is_(None))
        .values(announced_open_at=now),
    )


def _claim_resolutions(session: Session, ids: Sequence[str], now: datetime) -> list[str]:
    if not ids:
        return []
    return _claim(
        session,
        update(Alert)
        .where(Alert.id.in_(list(ids)), Alert.announced_resolved_at.is_(None))
        .values(announced_resolved_at=now),
    )


def _summary_due(session: Session, now: datetime, times: Times) -> bool:
    """Claims today's summary (once across processes) when its time has come."""
    local = now.astimezone(ZoneInfo(times.zone))
    if local.time() < _clock(times.summary_at):
        return False
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    made = session.scalar(
        insert(AlertDigest)
        .values(day=local.date(), made_at=now)
        .on_conflict_do_nothing(index_elements=["day"])
        .returning(AlertDigest.day)
    )
    return made is not None


def _never_said(session: Session, now: datetime) -> None:
    """Alerts that resolved before any message said they opened: nothing to say."""
    session.execute(
        update(Alert)
        .where(Alert.announced_open_at.is_(None), Alert.resolved_at.is_not(None))
        .values(announced_open_at=now, announced_resolved_at=now)
        .execution_options(synchronize_session=False)
    )


def by_objective(alerts: Sequence[Alert], names: dict[str, str]) -> list[tuple[str, list[Alert]]]:
    """Alerts grouped by objective name, the alerts of no objective last (the messages
    and the alerts page group the same way)."""
    groups: dict[str, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(names.get(alert.objective_id or "", OTHER), []).append(alert)
    order = sorted(groups, key=lambda n: (n == OTHER, n.casefold()))
    return [(name, groups[name]) for name in order]


def _lines(alerts: Sequence[Alert], names: dict[str, str], base_url: str) -> list[str]:
    out: list[str] = []
    for name, group in by_objective(alerts, names):
        out.append(f"*{name}*")
        out += [f"- {a.message.replace('*', '')} {alert_link(a, base_url)}" for a in group]
    return out


def _message(
    session: Session,
    *,
    title: str,
    opened: Sequence[Alert],
    resolved: Sequence[Alert],
    now: datetime,
    base_url: str,
) -> None:
    ids = {a.objective_id for a in [*opened, *resolved] if a.objective_id}
    names = dict(
        session.execute(select(Objective.id, Objective.name).where(Objective.id.in_(ids))).all()
    )
    body = _lines(opened, names, base_url)
    if resolved:
        body += ["", "Resolved since the last message:", *_resolved_lines(resolved)]
    link = f"{base_url.rstrip('/')}/alerts"
    queue_announcement(session, text="\n".join([*body, "", link]), title=title, link=link, now=now)


def queue_announcement(
    session: Session,
    *,
    text: str,
    title: str,
    link: str,
    now: datetime,
    internal_channels_only: bool = False,
) -> str:
    """Queue a message to the channels that receive alerts, due now, as a post of kind
    `alert` (so the calendar and reports leave it out); the engine publishes it once.
    Alerts, the weekly digest and the Twophy all go out this one way."""
    channels = select(Channel.id).where(
        Channel.receives_alerts.is_(True), Channel.status == ChannelStatus.active
    )
    if internal_channels_only:
        channels = channels.where(Channel.audience == "internal")
    post_id = new_id()
    session.add(
        Post(
            id=post_id,
            text=text,
            title=title,
            link=link,
            internal_only=True,
            state=PostState.scheduled,
            kind=PostKind.alert,
            scheduled_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    due_now = transitions.schedule(scheduled=True, at=now, now=now)
    for channel_id in session.scalars(channels):
        session.add(
            transitions.new_delivery(
                due_now, post_id=post_id, channel_id=channel_id, created_at=now
            )
        )
    session.flush()
    return post_id


def _resolved_lines(resolved: Sequence[Alert]) -> list[str]:
    return [
        f"- {a.message.replace('*', '')}" + (f" ({a.resolution_note})" if a.resolution_note else "")
        for a in resolved
    ]


def _title(urgent: int, waiting: int, resolved: int, *, summary: bool) -> str:
    if summary:
        return f"Cadence daily summary: {waiting} not covered yet, {resolved} resolved"
    return f"Cadence alerts: {urgent} need action now" + (
        f", {resolved} resolved" if resolved else ""
    )


def announce(session: Session, *, now: datetime, base_url: str, times: Times = Times()) -> int:
    """Make the messages due now; return how many were made (0, 1 or 2)."""
    _never_said(session, now)
    unsaid = session.scalars(
        select(Alert)
        .where(Alert.announced_open_at.is_(None), Alert.resolved_at.is_(None))
        .order_by(Alert.opened_at, Alert.id)
        .limit(BATCH)
    ).all()
    resolved = session.scalars(
        select(Alert)
        .where(
            Alert.announced_open_at.is_not(None),
            Alert.announced_resolved_at.is_(None),
            Alert.resolved_at.is_not(None),
        )
        .order_by(Alert.resolved_at, Alert.id)
        .limit(BATCH)
    ).all()
    objectives = {
        o.id: o
        for o in session.scalars(
            select(Objective).where(Objective.id.in_({a.objective_id for a in unsaid}))
        )
    }
    urgent = [
        a
        for a in unsaid
        if is_urgent(a, objectives.get(a.objective_id or ""), now=now, times=times)
    ]
    made = 0
    news = [a for a in resolved if a.kind in NEWS_WHEN_RESOLVED]
    if urgent or news:
        made += _send(session, urgent, resolved, now=now, base_url=base_url, summary=False)
    if _summary_due(session, now, times):
        waiting = [a for a in unsaid if a not in urgent]
        made += _send(session, waiting, resolved, now=now, base_url=base_url, summary=True)
    return made


def _send(
    session: Session,
    opened: Sequence[Alert],
    resolved: Sequence[Alert],
    *,
    now: datetime,
    base_url: str,
    summary: bool,
) -> int:
    """One message: the openings this process claims, with the resolutions waiting."""
    claimed = set(_claim_openings(session, [a.id for a in opened], now))
    news = [a.id for a in resolved if a.kind in NEWS_WHEN_RESOLVED]
    if not claimed and not news and not summary:
        return 0
    done = set(_claim_resolutions(session, [a.id for a in resolved], now))
    said = [a for a in opened if a.id in claimed]
    folded = [a for a in resolved if a.id in done]
    if not said and not folded:
        return 0
    title = _title(len(said), len(said), len(folded), summary=summary)
    _message(session, title=title, opened=said, resolved=folded, now=now, base_url=base_url)
    return 1


__all__ = ["Times", "alert_link", "announce", "by_objective", "is_urgent"]
