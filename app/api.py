"""Every feature's router under /api/v1."""

from fastapi import APIRouter, Depends

from app.alerts.views import router as alerts
from app.channels.platforms import router as platforms
from app.channels.views import router as channels
from app.coverage.views import router as coverage
from app.deps import no_nul_in_url
from app.media.views import router as media
from app.objectives.views import router as objectives
from app.posts.views import router as posts
from app.reports.views import router as reports
from app.team.views import router as team
from app.users.views import tokens, users

router = APIRouter(prefix="/api/v1", dependencies=[Depends(no_nul_in_url)])
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
    # exchange
):
    router.include_router(feature)
