"""Who may do what: the one table of roles and their rights.

Every role check (API bearer tokens in app.deps, web pages in app.web.infrastructure,
the CLI's and the users page's role choices) reads this module; a new role is added
here and nowhere else.
"""

from __future__ import annotations

from app.users.models import Role, User

# Higher rank: every right of the lower ranks and more.
ROLE_RANK: dict[Role, int] = {
    Role.viewer: 0,
    # Writes posts, uploads media and comments; what it schedules waits for approval
    # (app/team/approval.py), and editors' rights (approve, retry, ...) are above it.
    Role.contributor: 1,
    Role.editor: 2,
    Role.admin: 3,
}

# In the order forms and the CLI offer them (most rights first).
ROLE_NAMES: tuple[str, ...] = tuple(
    role.value for role in sorted(ROLE_RANK, key=ROLE_RANK.__getitem__, reverse=True)
)


def has_role(user: User, needed: Role) -> bool:
    """Whether `user` holds `needed` or a role ranked above it."""
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[needed]


def refusal(user: User, needed: Role) -> str:
    return f"this needs the {needed.value} role; you are {user.role}"
