"""Every model, imported in one place so that Base.metadata is complete (Alembic, tests)."""

from app.alerts.models import Alert, AlertDigest
from app.channels.models import Channel
from app.connect.models import ChannelToken, ConnectState, MastodonApp
from app.db import Base
from app.exchange.models import CalendarFeed, DeliveryPart
from app.insights.models import DeliveryMetric, Digest, MetricSchedule, TrackedLink
from app.media.models import Media
from app.objectives.models import Objective
from app.planning.models import AutofillClaim, Blackout, PauseSwitch, Series, Slot
from app.posts.models import Delivery, DeliveryAttempt, Post, PostMedia, post_objectives
from app.team.models import AuditEntry, Comment, Guardrail, TwophyAward
from app.users.models import ApiToken, LoginAttempt, User

__all__ = [
    "Alert",
    "AlertDigest",
    "ApiToken",
    "AuditEntry",
    "AutofillClaim",
    "Base",
    "Blackout",
    "CalendarFeed",
    "Channel",
    "ChannelToken",
    "Comment",
    "ConnectState",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryMetric",
    "DeliveryPart",
    "Digest",
    "Guardrail",
    "LoginAttempt",
    "MastodonApp",
    "Media",
    "MetricSchedule",
    "Objective",
    "PauseSwitch",
    "Post",
    "PostMedia",
    "Series",
    "Slot",
    "TrackedLink",
    "TwophyAward",
    "User",
    "post_objectives",
]
