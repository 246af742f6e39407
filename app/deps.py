"""FastAPI dependencies: the request's session and clock, the current user, role checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import BackgroundTasks, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.db import transaction
from app.runtime import Runtime
from app.users.models import Role, User
from app.users.service import record_token_use, user_for_token

# Dependencies that neither wait nor touch the database are `async def`: FastAPI runs
# them on the event loop instead of handing each to a worker thread and back.


async def no_nul_in_url(request: Request) -> None:
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


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


# Requests that only read get a read-only transaction: on SQLite it takes no write
# lock, so coverage, calendars and reports answer while a writer holds it.
READ_METHODS = frozenset({"GET", "HEAD"})


def reads_only(request: Request) -> bool:
    return request.method in READ_METHODS


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request: committed before the answer is sent, rolled back on error."""
    factory = runtime.read_sessions if reads_only(request) else runtime.sessions
    with factory() as session, session.begin():
        yield session


# scope="function": the commit runs before the response goes out, so a client never
# sees 2xx for a change that failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock.now()


NowDep = Annotated[datetime, Depends(get_now)]

_bearer = HTTPBearer(auto_error=False)


def _record_use(runtime: Runtime, token: str, now: datetime) -> None:
    with transaction(runtime.sessions) as session:
        record_token_use(session, token=token, now=now)


def user_of(
    session: Session,
    now: datetime,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    record_use: bool = True,
) -> tuple[User, bool]:
    """The token's user (or 401), and whether its use is due to be recorded."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    user, due = user_for_token(
        session, token=credentials.credentials, now=now, record_use=record_use
    )
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user, due


def get_current_user(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    after: BackgroundTasks,
) -> User:
    read_only = reads_only(request)
    user, due = user_of(session, now, credentials, record_use=not read_only)
    if due and read_only and credentials is not None:
        # A read-only transaction cannot write it: a short write after the answer does.
        after.add_task(_record_use, runtime, credentials.credentials, now)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

_RANK = {Role.viewer: 0, Role.editor: 1, Role.admin: 2}


def require(role: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets through users with `role` or a higher one."""

    async def check(user: CurrentUser) -> User:
        if _RANK[Role(user.role)] < _RANK[role]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role.value} role; you are {user.role}"
            )
        return user

    return Depends(check)


Viewer = Annotated[User, require(Role.viewer)]
Editor = Annotated[User, require(Role.editor)]
Admin = Annotated[User, require(Role.admin)]
