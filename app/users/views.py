"""API tokens (anyone's own; admins see all) and users (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.deps import ApiAdmin, ApiViewer, NowDep, SessionDep
from app.pagination import Page, PageDep
from app.schemas import patch_fields
from app.team import trail
from app.team.audit import Action, Subject
from app.users import service
from app.users.models import ApiToken, User
from app.users.profile import list_users
from app.users.schemas import TokenCreate, TokenCreated, TokenOut, UserOut, UserUpdate

tokens = APIRouter(prefix="/tokens", tags=["tokens"])
users = APIRouter(prefix="/users", tags=["users"])


def _token_out(token: ApiToken, user: User) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        user_id=user.id,
        user_email=user.email,
        role=user.role,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )


@tokens.post("", status_code=status.HTTP_201_CREATED)
def create_token(
    body: TokenCreate, session: SessionDep, now: NowDep, user: ApiViewer
) -> TokenCreated:
    """A new token for the caller. The `token` is shown in this answer only."""
    row, secret = service.create_token_row(
        session, user=user, now=now, name=body.name, expires_at=body.expires_at
    )
    trail.changed(
        session,
        user=user,
        subject=Subject.token,
        subject_id=row.id,
        before=None,
        after={"name": row.name, "expires_at": row.expires_at, "owner": user.email},
        now=now,
    )
    return TokenCreated(id=row.id, name=row.name, token=secret, expires_at=row.expires_at)


@tokens.get("")
def list_tokens(session: SessionDep, page: PageDep, user: ApiViewer) -> Page[TokenOut]:
    """Tokens not revoked: the caller's own, or everyone's for an admin. Never the secret."""
    rows, total = service.list_tokens(session, viewer=user, limit=page.limit, offset=page.offset)
    return Page(items=[_token_out(t, u) for t, u in rows], total=total)


@tokens.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: str, session: SessionDep, now: NowDep, user: ApiViewer) -> Response:
    """Revoke a token: it answers 401 from now on. Someone else's token is 404 unless admin."""
    service.revoke_token(session, viewer=user, token_id=token_id, now=now)
    trail.changed(
        session,
        user=user,
        subject=Subject.token,
        subject_id=token_id,
        before={},
        after={},
        now=now,
        action=Action.revoke,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users.get("")
def get_users(session: SessionDep, page: PageDep, _: ApiAdmin) -> Page[UserOut]:
    everyone = list_users(session)
    shown = everyone[page.offset : page.offset + page.limit]
    return Page(items=[UserOut.model_validate(u) for u in shown], total=len(everyone))


@users.patch("/{user_id}")
def change_user(
    user_id: str, body: UserUpdate, session: SessionDep, now: NowDep, admin: ApiAdmin
) -> UserOut:
    """Disable (`active: false`: tokens revoked, sessions ended at once), enable, or
    change the role of a person."""
    changes = patch_fields(body)
    before = trail.fields(UserOut.model_validate(service.get_user(session, user_id)))
    user = service.change_user(
        session,
        user=service.get_user(session, user_id),
        now=now,
        active=changes.get("active"),
        role=changes.get("role"),
    )
    out = UserOut.model_validate(user)
    trail.changed(
        session,
        user=admin,
        subject=Subject.user,
        subject_id=user_id,
        before=before,
        after=trail.fields(out),
        now=now,
    )
    return out
