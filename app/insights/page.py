"""The insights page: for each objective and each channel, posts per day over the
last 8 weeks (against the objective's target), engagement per week, and the 5 best
posts. Charts are SVG drawn here; every number is also in a table."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.coverage.days import required
from app.deps import SessionDep, no_nul_in_url
from app.insights import digest, engagement
from app.insights.charts import Chart, bars
from app.insights.pdf import digest_pdf
from app.objectives.models import Objective
from app.web.infrastructure import (
    PageViewer,
    csrf_protect,
    local_today,
    parse_day,
    render,
    runtime_of,
    user_zone_name,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)
WEEKS = 8


@dataclass(frozen=True)
class Section:
    """One objective or channel on the page."""

    id: str
    name: str
    note: str  # "2 posts a day" or the platform
    days: list[tuple[date, int, int | None]]  # (day, posts, target)
    weeks: list[tuple[date, int, int]]  # (Monday, posts, engagement)
    per_day: Chart
    per_week: Chart
    top: list[engagement.PostFigures]


def _day_chart(days: list[tuple[date, int, int | None]], target: int | None) -> Chart:
    return bars(
        [posts for _, posts, _ in days],
        [f"{d:%a %-d %b}: {posts} post{'s' if posts != 1 else ''}" for d, posts, _ in days],
        target=target,
        every=7,
        short=[f"{d:%-d %b}" for d, _, _ in days],
    )


def _week_chart(weeks: list[tuple[date, int, int]]) -> Chart:
    return bars(
        [score for _, _, score in weeks],
        [f"Week of {w:%-d %b}: engagement {score}" for w, _, score in weeks],
        short=[f"{w:%-d %b}" for w, _, _ in weeks],
    )


def _weeks(
    mondays: list[date], items: list[engagement.DeliveryFigures]
) -> list[tuple[date, int, int]]:
    posts: dict[date, set[str]] = defaultdict(set)
    score: dict[date, int] = defaultdict(int)
    for item in items:
        monday = engagement.period_start(item.day, "week")
        posts[monday].add(item.post_id)
        score[monday] += item.figures.engagement
    return [(m, len(posts[m]), score[m]) for m in mondays]


def objective_sections(
    session: Session,
    items: list[engagement.DeliveryFigures],
    first: date,
    last: date,
    mondays: list[date],
) -> list[Section]:
    objectives = list(
        session.scalars(
            select(Objective).where(Objective.archived.is_(False)).order_by(Objective.name)
        )
    )
    tagged = engagement.objectives_of(session, (i.post_id for i in items))
    sections = []
    for objective in objectives:
        mine = [i for i in items if objective.id in tagged.get(i.post_id, ())]
        published: dict[date, set[str]] = defaultdict(set)
        for item in mine:
            published[item.day].add(item.post_id)
        days: list[tuple[date, int, int | None]] = [
            (day, len(published[day]), required(objective, day))
            for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
        ]
        target = objective.min_posts_per_day or None
        weeks = _weeks(mondays, mine)
        sections.append(
            Section(
                id=objective.id,
                name=objective.name,
                note=f"target {objective.min_posts_per_day} a day",
                days=days,
                weeks=weeks,
                per_day=_day_chart(days, target),
                per_week=_week_chart(weeks),
                top=engagement.top_posts(engagement.per_post(mine)),
            )
        )
    return sections


def channel_sections(
    session: Session,
    items: list[engagement.DeliveryFigures],
    first: date,
    last: date,
    mondays: list[date],
) -> list[Section]:
    by_channel: dict[str, list[engagement.DeliveryFigures]] = defaultdict(list)
    for item in items:
        by_channel[item.channel_id].append(item)
    channels = session.scalars(
        select(Channel).where(Channel.id.in_(list(by_channel))).order_by(Channel.name)
    )
    sections = []
    for channel in channels:
        mine = by_channel[channel.id]
        count: dict[date, int] = defaultdict(int)
        for item in mine:
            count[item.day] += 1
        days: list[tuple[date, int, int | None]] = [
            (first + timedelta(days=n), count[first + timedelta(days=n)], None)
            for n in range((last - first).days + 1)
        ]
        weeks = _weeks(mondays, mine)
        sections.append(
            Section(
                id=channel.id,
                name=channel.name,
                note=channel.platform,
                days=days,
                weeks=weeks,
                per_day=_day_chart(days, None),
                per_week=_week_chart(weeks),
                top=engagement.top_posts(engagement.per_post(mine)),
            )
        )
    return sections


@router.get("/insights")
def insights_page(request: Request, session: SessionDep, user: PageViewer) -> Response:
    runtime = runtime_of(request)
    last = local_today(user, runtime)
    first = last - timedelta(days=WEEKS * 7 - 1)
    start_monday = engagement.period_start(first, "week")
    mondays = [
        start_monday + timedelta(weeks=n)
        for n in range((engagement.period_start(last, "week") - start_monday).days // 7 + 1)
    ]
    items = engagement.delivery_figures(
        session, start=first, end=last, zone=user_zone_name(user, runtime)
    )
    return render(
        request,
        "insights.html",
        {
            "first": first,
            "last": last,
            "objectives": objective_sections(session, items, first, last, mondays),
            "channels": channel_sections(session, items, first, last, mondays),
        },
        user=user,
        session=session,
    )


def _digest_week(request: Request, week: str | None, user: Any) -> tuple[date, Any]:
    """The Monday asked for (any day of its week will do), or last week's (also for a
    `week` that is not a date, as the other pages treat a bad day)."""
    runtime = runtime_of(request)
    day = parse_day(week)
    start = (
        engagement.period_start(day, "week")
        if day is not None
        else digest.last_week(local_today(user, runtime))
    )
    return start, runtime


@router.get("/digest")
def digest_page(
    request: Request, session: SessionDep, user: PageViewer, week: str | None = None
) -> Response:
    start, runtime = _digest_week(request, week, user)
    content = digest.content(
        session, start, now=runtime.clock.now(), zone=runtime.settings.timezone
    )
    return render(
        request,
        "digest.html",
        {
            "digest": content,
            "title": digest.title_of(content),
            "prev": start - timedelta(days=7),
            "next": start + timedelta(days=7),
        },
        user=user,
        session=session,
    )


@router.get("/digest.pdf")
def digest_pdf_download(
    request: Request, session: SessionDep, user: PageViewer, week: str | None = None
) -> Response:
    start, runtime = _digest_week(request, week, user)
    content = digest.content(
        session, start, now=runtime.clock.now(), zone=runtime.settings.timezone
    )
    link = f"{runtime.settings.base_url.rstrip('/')}/digest?week={start.isoformat()}"
    return Response(
        digest_pdf(content, link=link),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="cadence-digest-{start}.pdf"'},
    )
