"""Every feature's router under /api/v1."""

from fastapi import APIRouter, Depends

from app.alerts.views import router as alerts
from app.channels.platforms import router as platforms
from app.channels.views import router as channels
from app.coverage.views import router as coverage
from app.deps import no_nul_in_url
from app.exchange.views import feeds_router as feeds
from app.exchange.views import router as exchange
from app.insights.views import router as insights
from app.media.views import router as media
from app.objectives.views import router as objectives
from app.planning.views import router as series
from app.posts.views import router as posts
from app.reports.views import router as reports
from app.team.views import router as team
from app.users.views import tokens, users

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul_in_url)])
# exchange: first, or GET /posts/{post_id} would answer GET /posts/export.
router.include_router(exchange)
for feature in (
    objectives,
    channels,
    posts,
    alerts,
    coverage,
    media,
    reports,
    platforms,
    tokens,
    users,
    # connecting accounts
    # team workflow
    team,
    # planning
    series,
    # exchange
    # insights
    insights,
    feeds,
):
    router.include_router(feature)
