"""Every model, imported in one place so that Base.metadata is complete (Alembic, tests)."""

from app.alerts.models import Alert
from app.channels.models import Channel
from app.db import Base
from app.media.models import Media
from app.objectives.models import Objective
from app.posts.models import Delivery, DeliveryAttempt, Post, PostMedia, post_objectives
from app.team.models import AuditEntry, Comment, Guardrail, TwophyAward
from app.users.models import ApiToken, LoginAttempt, User

__all__ = [
    "Alert",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Channel",
    "Comment",
    "Delivery",
    "DeliveryAttempt",
    "Guardrail",
    "LoginAttempt",
    "Media",
    "Objective",
    "Post",
    "PostMedia",
    "TwophyAward",
    "User",
    "post_objectives",
]
