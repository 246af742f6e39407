"""Errors the services raise; main.py turns them into JSON answers.

Field problems use the same shape as FastAPI's own 422 answers, so clients read
one format: {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError


class NotFound(Exception):
    def __init__(self, resource: str, id_: object) -> None:
        super().__init__(f"{resource} {id_} not found")
        self.resource = resource
        self.id = id_


class Conflict(Exception):
    """The resource's state forbids the change (e.g. editing a published post)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class FieldProblem:
    loc: tuple[str | int, ...]
    msg: str
    type: str = "value_error"
    # Set when the problem concerns one channel of a post (platform validation).
    channel_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"loc": list(self.loc), "msg": self.msg, "type": self.type}
        if self.channel_id is not None:
            out["channel_id"] = self.channel_id
        return out


class InvalidInput(Exception):
    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems))
        self.problems = list(problems)


def invalid(field: str | tuple[str | int, ...], msg: str) -> InvalidInput:
    loc = (field,) if isinstance(field, str) else field
    return InvalidInput([FieldProblem(("body", *loc), msg)])


def problems_from_pydantic(
    exc: ValidationError, prefix: tuple[str | int, ...]
) -> list[FieldProblem]:
    """Field problems from a pydantic error, without the offending values (they may be secrets)."""
    return [FieldProblem((*prefix, *err["loc"]), err["msg"], err["type"]) for err in exc.errors()]
