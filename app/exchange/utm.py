"""Tracked links: UTM parameters added, at publish time, to a post's link and to the
URLs in its text, per channel, so analytics tell which objective and network brought
each visit.

An objective turns tracking on (`utm`) and says what to add (`utm_template`, a query
string with the placeholders `{platform}` and `{objective_slug}`);
with several objectives, the first one (by name) that tracks decides. A post turns it
off with `"utm": false`. A link keeps its own query string, fragment and `utm_*`
values: only the parameters it lacks are added.

URLs in the text are found with X's own linear-time scanner (connectors/x_text.py), so
X still counts each one as 23 characters; only `http(s)://` URLs are tagged (a bare
`example.org` is left as it was written). Placeholders are replaced, never formatted
(`str.format` would let a template reach into Python objects).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from connectors.base import PublishRequest
from connectors.x_text import extract_urls

DEFAULT_TEMPLATE = "utm_source={platform}&utm_medium=social&utm_campaign={objective_slug}"
PLACEHOLDERS = ("{platform}", "{objective_slug}")
MAX_TEMPLATE = 500


def slug(name: str) -> str:
    """The name lower-cased, with each run of other characters than letters and digits
    turned into one `-` (none at either end): "Open days 2027!" -> "open-days-2027"."""
    out: list[str] = []
    for char in name.lower():
        if char.isalnum():
            out.append(char)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def template_problem(template: str) -> str | None:
    """Why a template cannot be used, or None: `key=value` pairs joined by `&`, keys
    without placeholders, and no `{...}` other than the known placeholders."""
    if len(template) > MAX_TEMPLATE:
        return f"at most {MAX_TEMPLATE} characters"
    rest = template
    for placeholder in PLACEHOLDERS:
        rest = rest.replace(placeholder, "")
    if "{" in rest or "}" in rest:
        return f"the only placeholders are {', '.join(PLACEHOLDERS)}"
    if any(c in template for c in "#? \t\r\n"):
        return "a query string only: no '#', '?' or spaces"
    for pair in template.split("&"):
        key, eq, _ = pair.partition("=")
        if not key or not eq or "{" in key:
            return "write it as key=value pairs joined by '&', e.g. " + DEFAULT_TEMPLATE
    return None


@dataclass(frozen=True)
class Tracking:
    """What a post's links get: the deciding objective's template and name."""

    template: str
    objective_name: str

    def parameters(self, platform: str) -> list[tuple[str, str]]:
        values = {"{platform}": platform, "{objective_slug}": slug(self.objective_name)}
        pairs = []
        for pair in self.template.split("&"):
            key, _, value = pair.partition("=")
            for placeholder, filled in values.items():
                value = value.replace(placeholder, filled)
            pairs.append((key, value))
        return pairs


def tracking(post_utm: bool, objectives: Iterable[Any]) -> Tracking | None:
    """The tracking of a post whose objectives are given in name order, or None."""
    if not post_utm:
        return None
    for objective in objectives:
        if objective.utm:
            return Tracking(objective.utm_template, objective.name)
    return None


def tag_url(url: str, parameters: Sequence[tuple[str, str]]) -> str:
    """The URL with each parameter it lacks added after its own query, before its
    fragment; the query it has is kept byte for byte."""
    try:
        parts = urlsplit(url)
        present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    except ValueError:
        return url  # not a URL one can tag: leave it as written
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    added = [
        f"{quote(key, safe='')}={quote(value, safe='')}"
        for key, value in parameters
        if key not in present
    ]
    if not added:
        return url
    query = "&".join([parts.query, *added] if parts.query else added)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def tag_text(text: str, parameters: Sequence[tuple[str, str]]) -> str:
    """The text with each `http(s)://` URL in it tagged; one pass over the text."""
    pieces: list[str] = []
    at = 0
    for entity in extract_urls(text):
        end = entity.start + len(entity.url)
        if text[entity.start : end] != entity.url or not entity.url.lower().startswith(
            ("http://", "https://")
        ):
            continue
        pieces += [text[at : entity.start], tag_url(entity.url, parameters)]
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


def apply(request: PublishRequest, platform: str, found: Tracking | None) -> PublishRequest:
    """The request as `platform` publishes it: its link and text tagged, when tracked."""
    if found is None:
        return request
    parameters = found.parameters(platform)
    return dataclasses.replace(
        request,
        text=tag_text(request.text, parameters),
        link=tag_url(request.link, parameters) if request.link else request.link,
    )
