"""A channel's form, generated from its platform's pydantic schemas in the registry.

Config fields become inputs by their JSON-schema type (text, number, checkbox, a
select for a fixed set of values, one address a line for a list); credential fields
are always password inputs, left empty when the form is shown: a stored secret is
never sent back to the browser. An empty input sends nothing, so the schema's default
applies (and, when editing, the stored value is kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData

# Words for field names where the schema's own title would read oddly.
LABELS = {
    "api_base": "API base URL",
    "upload_base": "Upload base URL",
    "token_url": "Token URL",
    "url": "URL",
    "webhook_url": "Webhook URL",
    "user_nsid": "User NSID",
    "oauth_token": "OAuth token",
    "oauth_token_secret": "OAuth token secret",
    "page_id": "Page ID",
    "group_id": "Group ID",
    "network_id": "Network ID",
    "category_id": "Category ID",
    "client_id": "Client ID",
    "api_version": "API version",
    "timeout": "Timeout (seconds)",
    "to_addresses": "To addresses (one a line)",
    "organization_urn": "Organization URN",
    "ig_user_id": "Instagram user ID",
    "site_id": "Site ID",
    "access_jwt": "Session access token",
    "refresh_jwt": "Session refresh token",
    "did": "DID",
}
HINTS = {
    "api_base": "Leave empty for the platform's own address.",
    "upload_base": "Leave empty for the platform's own address.",
    "token_url": "Leave empty for the platform's own address.",
    "instance": "Your Mastodon server's address, such as https://mastodon.social.",
    "access_jwt": "Kept by Cadence: leave empty.",
    "refresh_jwt": "Kept by Cadence: leave empty.",
    "did": "Kept by Cadence: leave empty.",
    "expires_at": "When the access token expires (ISO 8601, UTC).",
}
DESTINATION_HINT = "Changing this needs the credentials entered again."
# Shown folded away: only for tests, self-hosted or regional deployments.
ADVANCED = {"api_base", "upload_base", "token_url", "timeout", "api_version"}


@dataclass(frozen=True)
class FieldSpec:
    group: str  # "config" or "credentials"
    name: str
    label: str
    kind: str  # text, number, checkbox, select, lines, password
    required: bool
    default: Any
    options: tuple[str, ...] = ()
    hint: str = ""
    step: str = "any"

    @property
    def key(self) -> str:
        return f"{self.group}.{self.name}"

    @property
    def advanced(self) -> bool:
        return self.name in ADVANCED


def _plain(prop: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an Optional (anyOf [X, null])."""
    for option in prop.get("anyOf", []):
        if option.get("type") != "null":
            return {**prop, **option}
    return prop


def fields(model: type[BaseModel], group: str) -> list[FieldSpec]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    out = []
    for name, raw in schema.get("properties", {}).items():
        prop = _plain(raw)
        kind = "text"
        options: tuple[str, ...] = ()
        step = "any"
        if group == "credentials":
            kind = "password"
        elif "enum" in prop:
            kind, options = "select", tuple(str(v) for v in prop["enum"])
        elif prop.get("type") == "boolean":
            kind = "checkbox"
        elif prop.get("type") in ("integer", "number"):
            kind = "number"
            step = "1" if prop["type"] == "integer" else "any"
        elif prop.get("type") == "array":
            kind = "lines"
        out.append(
            FieldSpec(
                group=group,
                name=name,
                label=LABELS.get(name, name.replace("_", " ").capitalize()),
                kind=kind,
                required=name in required,
                default=prop.get("default"),
                options=options,
                hint=" ".join(
                    h
                    for h in (HINTS.get(name, ""), DESTINATION_HINT * bool(raw.get("destination")))
                    if h
                ),
                step=step,
            )
        )
    return out


def values_from(form: FormData, specs: list[FieldSpec]) -> dict[str, Any]:
    """The submitted values of one group, as the schema expects them.

    Empty inputs are left out. A browser sends a checkbox only when it is ticked, so
    the form marks each checkbox it shows with a hidden `<key>.present` input: an
    unticked one is then False.
    """
    out: dict[str, Any] = {}
    for spec in specs:
        raw = form.get(spec.key)
        value = raw if isinstance(raw, str) else None
        if spec.kind == "checkbox":
            if value is not None or f"{spec.key}.present" in form:
                out[spec.name] = value is not None
        elif spec.kind == "lines":
            if value is not None and value.strip():
                out[spec.name] = [line.strip() for line in value.splitlines() if line.strip()]
        elif value is not None and value.strip():
            out[spec.name] = value.strip() if spec.kind != "password" else value
    return out


def shown_value(spec: FieldSpec, stored: dict[str, Any] | None) -> Any:
    """What an input shows: the stored config value, else the default. Never a secret."""
    if spec.kind == "password":
        return ""
    value = (stored or {}).get(spec.name, spec.default)
    if spec.kind == "lines" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else value
