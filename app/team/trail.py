"""One-line audit calls for the places outside posts that change things (channels,
objectives, users, tokens, logins): each passes the subject as it was and as it is."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.channels import service as channels
from app.channels.models import Channel
from app.crypto import CredentialBox
from app.team.audit import Action, Subject, diff, record
from app.users.models import User

# Bookkeeping fields: every change moves them, none says what changed.
_SKIP = frozenset({"id", "created_at", "updated_at", "last_used_at", "credential_fields"})


def fields(answer: BaseModel | None) -> dict[str, Any]:
    """An API answer's fields worth recording (an answer never holds a secret)."""
    if answer is None:
        return {}
    return {k: v for k, v in answer.model_dump().items() if k not in _SKIP}


def changed(
    session: Session,
    *,
    user: User | None,
    subject: Subject,
    subject_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    now: datetime,
    action: Action | None = None,
    credentials_changed: bool = False,
) -> None:
    """Record a create (no `before`), a delete (no `after`) or an update; an update that
    changed nothing is not recorded."""
    changes = diff(before or {}, after or {})
    if credentials_changed:
        changes["credentials"] = [None, "changed"]
    if action is None:
        action = (
            Action.create if before is None else Action.delete if after is None else Action.update
        )
        if action == Action.update and not changes:
            return
    record(
        session,
        actor=user,
        action=action,
        subject=subject,
        subject_id=subject_id,
        now=now,
        changes=changes,
    )


def channel_fields(channel: Channel, box: CredentialBox) -> dict[str, Any]:
    """URL settings as non-admins see them (they may hold a token); credentials never."""
    return fields(channels.to_out(channel, box, listed=True))


def channel_changed(
    session: Session,
    box: CredentialBox,
    user: User,
    channel_id: str,
    before: dict[str, Any] | None,
    channel: Channel | None,
    now: datetime,
    credentials: bool = False,
) -> None:
    changed(
        session,
        user=user,
        subject=Subject.channel,
        subject_id=channel_id,
        before=before,
        after=channel_fields(channel, box) if channel is not None else None,
        now=now,
        credentials_changed=credentials,
    )
