"""FastAPI dependencies: the request's session and clock, the current user, role checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.db import transaction
from app.runtime import Runtime
from app.users.models import Role, User
from app.users.roles import has_role, refusal
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
    """The request's session: committed before the answer is sent, rolled back on error.

    Its transaction begins with its first statement; a view may commit early to end
    a read phase (app/posts/rules.py validates posts between two transactions).
    """
    factory = runtime.read_sessions if reads_only(request) else runtime.sessions
    with factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


# scope="function": the commit runs before the response goes out, so a client never
# sees 2xx for a change that failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock.now()


NowDep = Annotated[datetime, Depends(get_now)]

_bearer = HTTPBearer(auto_error=False)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


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
    credentials: BearerDep,
    after: BackgroundTasks,
) -> User:
    read_only = reads_only(request)
    user, due = user_of(session, now, credentials, record_use=not read_only)
    if due and read_only and credentials is not None:
        # A read-only transaction cannot write it: a short write after the answer does.
        after.add_task(_record_use, runtime, credentials.credentials, now)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def _checked(user: User, role: Role) -> User:
    if not has_role(user, role):
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal(user, role))
    return user


def api_role(role: Role) -> Any:
    """A dependency that lets through bearer-token users with `role` or a higher one."""

    async def check(user: CurrentUser) -> User:
        return _checked(user, role)

    return Depends(check)


def api_role_briefly(role: Role) -> Any:
    """Like `api_role`, checked in a transaction of its own, closed before the endpoint runs.

    The request's session keeps its transaction open until the endpoint returns (and,
    on SQLite, holds the write lock from the first query). Endpoints that wait on
    something slow (an upload streaming in, a platform being asked) use this instead.
    """

    def check(runtime: RuntimeDep, credentials: BearerDep) -> User:
        with transaction(runtime.sessions) as session:
            user, _ = user_of(session, runtime.clock.now(), credentials)
        return _checked(user, role)

    return Depends(check)


# Bearer-token API routes. (The web pages' cookie variants are PageViewer & co. in
# app.web.infrastructure; both read the one role table in app.users.roles.)
ApiViewer = Annotated[User, api_role(Role.viewer)]
ApiContributor = Annotated[User, api_role(Role.contributor)]
ApiEditor = Annotated[User, api_role(Role.editor)]
ApiAdmin = Annotated[User, api_role(Role.admin)]
ApiBriefContributor = Annotated[User, api_role_briefly(Role.contributor)]
ApiBriefEditor = Annotated[User, api_role_briefly(Role.editor)]
ApiBriefAdmin = Annotated[User, api_role_briefly(Role.admin)]
