"""Declare, in the OpenAPI document, the error statuses each API operation really answers.

They follow from how an operation is built, so they are derived here in one place from
the generated document instead of being repeated on every route:

- 401 and 403: the operation needs a bearer token (and a role);
- 404: the operation names a resource in its path;
- 409: the operation changes state (a name already taken, a post already published);
- 400 and 413: the operation takes a request body, which may not parse or may be larger
  than the limit (both answered before the operation runs);
- 422: the operation takes any input (path, query or body) that can be malformed.

Every error answer has one shape: `{"detail": "..."}` or
`{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict


class FieldError(BaseModel):
    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: str | list[FieldError]


_WRITES = {"post", "put", "patch", "delete"}
_DESCRIPTIONS = {
    "400": "The body could not be read at all (e.g. a broken multipart upload)",
    "401": "No bearer token, or one that is unknown, revoked or expired",
    "403": "The caller's role does not allow this",
    "404": "The resource does not exist",
    "409": "The change conflicts with the resource's state or with another resource",
    "413": "The request body is larger than the configured limit",
    "422": "A field is missing or invalid; `loc` names it",
}
_REF = "#/components/schemas/{model}"


def error_statuses(method: str, operation: dict[str, Any]) -> set[str]:
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    statuses: set[str] = set()
    if operation.get("security"):
        statuses |= {"401", "403"}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add("404")
    if method in _WRITES:
        statuses.add("409")
    if body:
        statuses |= {"400", "413"}
    if body or parameters:
        statuses.add("422")
    return statuses


def _declare(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    definitions = ErrorBody.model_json_schema(ref_template=_REF)
    components.update(definitions.pop("$defs", {}))
    components["ErrorBody"] = definitions
    answer = {"content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(method, operation)):
                # FastAPI's own 422 schema is narrower than what the API answers.
                responses[status] = {"description": _DESCRIPTIONS[status], **answer}


def declare_error_responses(app: FastAPI) -> None:
    """Make `app.openapi()` add the derived error answers to every API operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _declare(build())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
