"""Collecting engagement: which deliveries are due a reading, claiming them, calling
each platform's metrics reader in batches, and storing what came back.

A published delivery is read at each point of SCHEDULE after it was published. The
job claims due readings in one short transaction (like the dispatcher claims
deliveries: PostgreSQL skips rows another process holds, SQLite serialises writers),
commits, then calls the platforms, then writes the figures and the next due time. A
claim expires after the lease, so a process that dies mid-collection loses nothing.

What a platform answer does: figures are stored and the schedule moves on; GONE (the
post was deleted) marks the schedule gone and collection stops for it; a 429
postpones the rest of that channel's readings to the platform's retry time (never
losing them); a refused credential or any other failure postpones them too, quietly:
the publishing side and the channel check own the "needs reconnecting" alert, and a
channel already marked so is not even claimed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.channels.models import Channel, ChannelStatus
from app.channels.service import save_channel_credentials
from app.db import transaction
from app.insights.models import DeliveryMetric, MetricSchedule, TrackedLink
from app.posts.models import Delivery, DeliveryStatus
from app.publishing.calls import NotSent, build_connector, read_settings
from app.runtime import Runtime
from connectors.base import AuthExpired, PublishError, RateLimited
from connectors.metrics import GONE, Figures, Gone, Readings, reader_for
from connectors.metrics.registry import READERS
from connectors.registry import get_platform
from connectors.transport import make_client

log = logging.getLogger(__name__)

# When a delivery's figures are read, after it was published.
SCHEDULE = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)
WINDOW = SCHEDULE[-1]  # `cadence metrics collect` reads what was published within it
CLAIM_LIMIT = 2000
# A channel whose credentials were refused is asked again this much later.
REFUSED_WAIT = timedelta(hours=6)


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    external_id: str
    published_at: datetime
    step: int
    channel_id: str
    platform: str
    config: dict[str, Any]
    credentials_encrypted: str


@dataclass
class Results:
    """What a collection found, to be written in one transaction."""

    figures: dict[str, Figures] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    postponed: dict[str, datetime] = field(default_factory=dict)

    @property
    def read(self) -> int:
        return len(self.figures) + len(self.gone)


def next_due(published_at: datetime, now: datetime) -> tuple[int, datetime | None]:
    """The next schedule point after `now`: (its index, its time); (len, None) when done."""
    for step, offset in enumerate(SCHEDULE):
        if published_at + offset > now:
            return step, published_at + offset
    return len(SCHEDULE), None


def enroll(session: Session, now: datetime) -> int:
    """Give every published delivery of a platform with a reader a schedule."""
    rows = session.execute(
        select(Delivery.id, Delivery.published_at)
        .join(Channel, Channel.id == Delivery.channel_id)
        .outerjoin(MetricSchedule, MetricSchedule.delivery_id == Delivery.id)
        .where(
            MetricSchedule.delivery_id.is_(None),
            Delivery.status == DeliveryStatus.published,
            Delivery.external_id.is_not(None),
            Delivery.published_at >= now - WINDOW,
            Channel.platform.in_(list(READERS)),
        )
        .limit(CLAIM_LIMIT)
    ).all()
    if not rows:
        return 0
    values = [
        {
            "delivery_id": row.id,
            "step": 0,
            "due_at": row.published_at + SCHEDULE[0],
            "gone": False,
        }
        for row in rows
    ]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Another process may enroll the same delivery at the same moment: one row wins.
    session.execute(insert(MetricSchedule).values(values).on_conflict_do_nothing())
    return len(values)


def claim(
    session: Session, *, now: datetime, owner: str, lease: timedelta, everything: bool = False
) -> list[Claimed]:
    """Claim the readings due now (`everything`: every delivery of the last 30 days not
    gone, whatever its schedule) on channels that are active."""
    due = (
        Delivery.published_at >= now - WINDOW
        if everything
        else and_(MetricSchedule.due_at.is_not(None), MetricSchedule.due_at <= now)
    )
    query = (
        select(
            MetricSchedule.delivery_id,
            MetricSchedule.step,
            Delivery.external_id,
            Delivery.published_at,
            Channel.id.label("channel_id"),
            Channel.platform,
            Channel.config,
            Channel.credentials_encrypted,
        )
        .join(Delivery, Delivery.id == MetricSchedule.delivery_id)
        .join(Channel, Channel.id == Delivery.channel_id)
        .where(
            due,
            MetricSchedule.gone.is_(False),
            or_(MetricSchedule.claimed_until.is_(None), MetricSchedule.claimed_until <= now),
            Channel.status == ChannelStatus.active,
        )
        .order_by(MetricSchedule.due_at)
        .limit(CLAIM_LIMIT)
        .with_for_update(skip_locked=True, of=MetricSchedule)
    )
    rows = session.execute(query).all()
    if not rows:
        return []
    session.execute(
        update(MetricSchedule)
        .where(MetricSchedule.delivery_id.in_([row.delivery_id for row in rows]))
        .values(claimed_by=owner, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return [
        Claimed(
            delivery_id=row.delivery_id,
            external_id=row.external_id,
            published_at=row.published_at,
            step=row.step,
            channel_id=row.channel_id,
            platform=row.platform,
            config=dict(row.config),
            credentials_encrypted=row.credentials_encrypted,
        )
        for row in rows
    ]


def clicks_of(session: Session, delivery_ids: Sequence[str]) -> dict[str, int]:
    """Human clicks on each delivery's tracked links (bots apart)."""
    if not delivery_ids:
        return {}
    rows = session.execute(
        select(TrackedLink.delivery_id, func.sum(TrackedLink.clicks))
        .where(TrackedLink.delivery_id.in_(list(delivery_ids)))
        .group_by(TrackedLink.delivery_id)
    ).all()
    return {delivery_id: int(total or 0) for delivery_id, total in rows}


def record(
    session: Session,
    claimed: Sequence[Claimed],
    results: Results,
    *,
    now: datetime,
    owner: str,
    advance: bool = True,
) -> None:
    """Store the readings and each claimed delivery's next due time; release the claims.
    A claim another process took over (this one ran past its lease) keeps nothing."""
    clicks = clicks_of(session, list(results.figures))
    for item in claimed:
        values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
        figures = results.figures.get(item.delivery_id)
        if figures is not None:
            if advance:
                values["step"], values["due_at"] = next_due(item.published_at, now)
        elif item.delivery_id in results.gone:
            values.update(gone=True, due_at=None)
        elif item.delivery_id in results.postponed:
            values["due_at"] = results.postponed[item.delivery_id]
        kept = session.execute(
            update(MetricSchedule)
            .where(
                MetricSchedule.delivery_id == item.delivery_id,
                MetricSchedule.claimed_by == owner,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if figures is not None and kept.rowcount:  # type: ignore[attr-defined]
            session.add(
                DeliveryMetric(
                    delivery_id=item.delivery_id,
                    fetched_at=now,
                    likes=figures.likes,
                    reposts=figures.reposts,
                    replies=figures.replies,
                    views=figures.views,
                    clicks=clicks.get(item.delivery_id),
                )
            )


async def read_channel(
    runtime: Runtime,
    http: httpx.AsyncClient,
    items: Sequence[Claimed],
    results: Results,
    *,
    retry_later: timedelta,
) -> None:
    """Read one channel's claimed deliveries, batch by batch, into `results`."""
    first = items[0]
    reader = reader_for(first.platform)
    now = runtime.clock.now()
    if reader is None:
        return
    by_external: dict[str, list[Claimed]] = defaultdict(list)
    for item in items:
        by_external[item.external_id].append(item)
    pending = list(by_external)
    batch: list[str] = []
    try:
        platform = get_platform(first.platform)
        settings = read_settings(
            platform,
            config=first.config,
            credentials_encrypted=first.credentials_encrypted,
            box=runtime.box,
        )
        connector = build_connector(
            platform,
            settings,
            http=http,
            now=runtime.clock.now,
            save_credentials=partial(_save_credentials, runtime, first.channel_id),
            outbound=runtime.settings.outbound_policy(),
        )
        while pending:
            batch, pending = pending[: reader.batch], pending[reader.batch :]
            readings = await reader.read(connector, batch)
            _sort(readings, by_external, results)
            # An id the platform neither showed nor called gone: ask again later.
            for ident in batch:
                if ident not in readings:
                    _postpone(by_external[ident], now + retry_later, results)
    except RateLimited as exc:
        until = exc.retry_at or now + retry_later
        _postpone_all(pending, batch, by_external, until, results)
        log.info("metrics of channel %s postponed: %s", first.channel_id, exc.message)
    except AuthExpired as exc:
        _postpone_all(pending, batch, by_external, now + REFUSED_WAIT, results)
        log.info("metrics of channel %s skipped: %s", first.channel_id, exc.message)
    except (PublishError, NotSent) as exc:
        _postpone_all(pending, batch, by_external, now + retry_later, results)
        log.warning("metrics of channel %s not read: %s", first.channel_id, exc.message)


async def _save_credentials(runtime: Runtime, channel_id: str, changed: dict[str, Any]) -> None:
    """Keep a token the platform renewed during a reading (YouTube's access token)."""

    def save() -> None:
        with transaction(runtime.sessions) as session:
            save_channel_credentials(
                session,
                channel_id=channel_id,
                changed=changed,
                box=runtime.box,
                now=runtime.clock.now(),
            )

    await asyncio.to_thread(save)


def _sort(readings: Readings, by_external: dict[str, list[Claimed]], results: Results) -> None:
    for ident, reading in readings.items():
        for item in by_external.get(ident, ()):
            if isinstance(reading, Gone) or reading is GONE:
                results.gone.add(item.delivery_id)
            else:
                results.figures[item.delivery_id] = reading


def _postpone(items: Sequence[Claimed], until: datetime, results: Results) -> None:
    for item in items:
        results.postponed[item.delivery_id] = until


def _postpone_all(
    pending: list[str],
    batch: list[str],
    by_external: dict[str, list[Claimed]],
    until: datetime,
    results: Results,
) -> None:
    for ident in [*batch, *pending]:
        _postpone(by_external[ident], until, results)


class Collector:
    """Runs collections for one process; `http` is its own client unless given."""

    def __init__(
        self, runtime: Runtime, *, owner: str, http: httpx.AsyncClient | None = None
    ) -> None:
        self.runtime = runtime
        self.owner = owner
        settings = runtime.settings
        self._own_http = http is None
        self.http = http or make_client(
            timeout=settings.publish_timeout_seconds,
            max_connections=8,
            outbound=settings.outbound_policy(),
        )

    async def close(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def run(self, *, everything: bool = False) -> int:
        """One collection: what is due (`everything`: all of the last 30 days).
        Answers how many deliveries were read (figures or gone)."""
        runtime = self.runtime
        lease = timedelta(seconds=max(runtime.settings.metrics_interval_seconds, 60))
        claimed = await asyncio.to_thread(self._claim, everything, lease)
        if not claimed:
            return 0
        by_channel: dict[str, list[Claimed]] = defaultdict(list)
        for item in claimed:
            by_channel[item.channel_id].append(item)
        results = Results()
        retry_later = timedelta(seconds=runtime.settings.metrics_interval_seconds)
        await asyncio.gather(
            *(
                read_channel(runtime, self.http, items, results, retry_later=retry_later)
                for items in by_channel.values()
            )
        )
        await asyncio.to_thread(self._record, claimed, results, not everything)
        return results.read

    async def collect(self) -> None:
        """The scheduled job: read what is due; a failure is logged, not raised."""
        try:
            await self.run()
        except Exception:
            log.exception("collecting engagement figures failed")

    def _claim(self, everything: bool, lease: timedelta) -> list[Claimed]:
        now = self.runtime.clock.now()
        with transaction(self.runtime.sessions) as session:
            enroll(session, now)
            return claim(session, now=now, owner=self.owner, lease=lease, everything=everything)

    def _record(self, claimed: list[Claimed], results: Results, advance: bool) -> None:
        now = self.runtime.clock.now()
        with transaction(self.runtime.sessions) as session:
            record(session, claimed, results, now=now, owner=self.owner, advance=advance)
