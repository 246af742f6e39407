"""FastAPI dependencies: the request's session and clock, the current user, role checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.runtime import Runtime
from app.users.models import Role, User
from app.users.service import user_for_token


def no_nul_in_url(request: Request) -> None:
    """Refuse U+0000 in path and query values: PostgreSQL text can neither store nor compare it."""
    values = [("path", k, v) for k, v in request.path_params.items()]
    values += [("query", k, v) for k, v in request.query_params.multi_items()]
    problems = [
        {"loc": (where, name), "msg": "may not contain NUL characters", "type": "value_error"}
        for where, name, value in values
        if "\x00" in str(value)
    ]
    if problems:
        raise RequestValidationError(problems)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """The request's session: committed before the answer is sent, rolled back on error.

    Its transaction begins with its first statement; a view may commit early to end
    a read phase (app/posts/rules.py validates posts between two transactions).
    """
    with runtime.sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


# scope="function": the commit runs before the response goes out, so a client never
# sees 2xx for a change that failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock.now()


NowDep = Annotated[datetime, Depends(get_now)]

_bearer = HTTPBearer(auto_error=False)


def get_current_user(
    session: SessionDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user = user_for_token(session, token=credentials.credentials, now=now)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

_RANK = {Role.viewer: 0, Role.editor: 1, Role.admin: 2}


def require(role: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets through users with `role` or a higher one."""

    def check(user: CurrentUser) -> User:
        if _RANK[Role(user.role)] < _RANK[role]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role.value} role; you are {user.role}"
            )
        return user

    return Depends(check)


Viewer = Annotated[User, require(Role.viewer)]
Editor = Annotated[User, require(Role.editor)]
Admin = Annotated[User, require(Role.admin)]
