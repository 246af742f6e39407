"""Role checks for endpoints that must not hold the request's transaction.

`app.deps.require` checks the token in the request's session, whose transaction stays
open until the endpoint returns (and, on SQLite, holds the write lock from the first
query). Endpoints that wait on something slow (an upload streaming in, a platform
being asked) check the token in a transaction of their own instead, closed before the
endpoint runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.db import transaction
from app.deps import RuntimeDep, user_of
from app.users.models import Role, User

_bearer = HTTPBearer(auto_error=False)
_RANK = {Role.viewer: 0, Role.editor: 1, Role.admin: 2}


def require_briefly(role: Role) -> Any:
    """A dependency like `app.deps.require(role)` that holds no transaction afterwards."""

    def check(
        runtime: RuntimeDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> User:
        with transaction(runtime.sessions) as session:
            user, _ = user_of(session, runtime.clock.now(), credentials)
        if _RANK[Role(user.role)] < _RANK[role]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role.value} role; you are {user.role}"
            )
        return user

    return Depends(check)


BriefEditor = Annotated[User, require_briefly(Role.editor)]
BriefAdmin = Annotated[User, require_briefly(Role.admin)]
