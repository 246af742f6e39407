"""Every feature's router under /api/v1."""

from fastapi import APIRouter

from app.alerts.views import router as alerts
from app.channels.views import router as channels
from app.objectives.views import router as objectives
from app.posts.views import router as posts

router = APIRouter(prefix="/api/v1")
for feature in (objectives, channels, posts, alerts):
    router.include_router(feature)
