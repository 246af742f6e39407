"""Every model, imported in one place so that Base.metadata is complete (Alembic, tests)."""

from app.alerts.models import Alert, AlertDigest
from app.channels.models import Channel
from app.db import Base
from app.media.models import Media
from app.objectives.models import Objective
from app.planning.models import AutofillClaim, Blackout, PauseSwitch, Series, Slot
from app.posts.models import Delivery, DeliveryAttempt, Post, PostMedia, post_objectives
from app.users.models import ApiToken, LoginAttempt, User

__all__ = [
    "Alert",
    "AlertDigest",
    "ApiToken",
    "AutofillClaim",
    "Base",
    "Blackout",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "LoginAttempt",
    "Media",
    "Objective",
    "PauseSwitch",
    "Post",
    "PostMedia",
    "Series",
    "Slot",
    "User",
    "post_objectives",
]
