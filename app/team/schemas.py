from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.schemas import Input, Output

CommentText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
]


class RejectBody(Input):
    comment: CommentText


class CommentCreate(Input):
    text: CommentText


class CommentOut(Output):
    id: str
    at: datetime
    author_id: str | None
    author_email: str | None
    text: str


class AuditEntryOut(Output):
    id: str
    at: datetime
    actor_id: str | None
    actor_email: str | None
    token_id: str | None
    action: str
    subject_type: str
    subject_id: str
    changes: dict[str, Any]


Phrase = Annotated[str, Field(max_length=200)]
Note = Annotated[str, Field(max_length=2000)]


class GuardrailCreate(Input):
    phrase: Phrase
    audience: Literal["external", "all"] = "all"
    action: Literal["block", "require_approval"] = "block"
    note: Note = ""


class GuardrailUpdate(Input):
    phrase: Phrase | None = None
    audience: Literal["external", "all"] | None = None
    action: Literal["block", "require_approval"] | None = None
    note: Note | None = None


class GuardrailOut(Output):
    id: str
    phrase: str
    audience: str
    action: str
    note: str
    created_at: datetime
    updated_at: datetime


class StandingOut(Output):
    user_id: str
    email: str
    display_name: str
    published: int
    objective_days: int
    submitted: int
    approved: int
    rejected: int


class LeaderboardOut(Output):
    week: str
    items: list[StandingOut]
