"""A fake Microsoft Graph for SharePoint site pages (news posts), on 127.0.0.1.

- `GET /v1.0/sites/{site-id}` -> `{"id", "displayName", "webUrl"}`; an unknown site:
  404 `{"error": {"code": "itemNotFound", "message": "Requested site could not be
  found"}}`.
- `POST /v1.0/sites/{site-id}/pages` (a `#microsoft.graph.sitePage`: `name` ending
  `.aspx` and unique, `title` required) -> 201 with the page (`id`, `name`, `title`,
  `webUrl` relative to the site, `publishingState.level: checkout`); a taken name: 409
  `nameAlreadyExists`.
- `POST /v1.0/sites/{site-id}/pages/{page-id}/microsoft.graph.sitePage/publish` ->
  204; the page is then published.
- A missing or revoked token: 401 `InvalidAuthenticationToken`; a token without
  Sites.ReadWrite.All (`read_only_token`) may read but gets 403 `accessDenied` on writes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.scripted import Handler, ScriptedFake
from tests.fakes.sinks import Answer, RecordedRequest, json_answer, text_answer

TOKEN = "eyJ0eXAiOiJKV1QiSharePointToken.x9"
READ_ONLY_TOKEN = "eyJ0eXAiOiJKV1QiReadOnlyToken.q1"
SITE_ID = "contoso.sharepoint.com,2C712604-1370-44E7-A1F5-426573FDA80A,2D2244C3-251A-49EA-93A8-39E1C3A060FE"
SITE_URL = "https://contoso.sharepoint.com/sites/news"


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Answer:
    return json_answer(
        status,
        {"error": {"code": code, "message": message, "innerError": {"request-id": "5d6e3b2a"}}},
        headers,
    )


def throttled(retry_after: str) -> Answer:
    return graph_error(429, "TooManyRequests", "Too many requests", {"Retry-After": retry_after})


def unavailable() -> Answer:
    return text_answer(503, "Service Unavailable")


@dataclass
class Page:
    id: str
    body: dict[str, Any]
    published: bool = False

    @property
    def web_url(self) -> str:
        return f"SitePages/{self.body['name']}"


@dataclass
class FakeSharePoint(ScriptedFake):
    tokens: dict[str, bool] = field(default_factory=lambda: {TOKEN: True, READ_ONLY_TOKEN: False})
    pages: dict[str, Page] = field(default_factory=dict)

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        site = "/v1.0/sites/([^/]+)"
        return {
            ("GET", site): ("site", self._site),
            ("POST", f"{site}/pages"): ("create", self._create),
            ("POST", f"{site}/pages/([^/]+)/microsoft.graph.sitePage/publish"): (
                "publish",
                self._publish,
            ),
        }

    def not_found(self, request: RecordedRequest) -> Answer:
        return graph_error(400, "BadRequest", "Resource not found for the segment")

    def revoke(self) -> None:
        self.tokens.clear()

    def published(self) -> list[Page]:
        return [p for p in self.pages.values() if p.published]

    # -- serving -------------------------------------------------------------------------

    def _refused(
        self, request: RecordedRequest, match: re.Match[str], write: bool
    ) -> Answer | None:
        token = self.bearer(request)
        if token not in self.tokens:
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            )
        if write and not self.tokens[token]:
            return graph_error(403, "accessDenied", "Access denied")
        if match.group(1) != SITE_ID:
            return graph_error(404, "itemNotFound", "Requested site could not be found")
        return None

    def _site(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        refused = self._refused(request, match, write=False)
        return refused or json_answer(
            200, {"id": SITE_ID, "displayName": "Staff news", "webUrl": SITE_URL}
        )

    def _create(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        refused = self._refused(request, match, write=True)
        if refused:
            return refused
        body = request.json()
        name = body.get("name", "")
        if (
            body.get("@odata.type") != "#microsoft.graph.sitePage"
            or not name.endswith(".aspx")
            or not body.get("title")
        ):
            return graph_error(
                400, "invalidRequest", "Invalid request: name, title and @odata.type are required"
            )
        if any(p.body["name"] == name for p in self.pages.values()):
            return graph_error(409, "nameAlreadyExists", "The specified item name already exists.")
        with self._lock:
            page = Page(self.next_page_id(), body)
            self.pages[page.id] = page
        return json_answer(
            201,
            {
                "id": page.id,
                "name": name,
                "title": body["title"],
                "webUrl": page.web_url,
                "promotionKind": body.get("promotionKind"),
                "publishingState": {"level": "checkout", "versionId": "0.1"},
            },
        )

    def _publish(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        refused = self._refused(request, match, write=True)
        if refused:
            return refused
        page = self.pages.get(match.group(2))
        if page is None:
            return graph_error(404, "itemNotFound", "The page could not be found")
        page.published = True
        return Answer(204, b"", {})

    def next_page_id(self) -> str:
        """Page ids are GUIDs; the fake's count up, so a test can know the next."""
        return str(uuid.UUID(int=0x5A6E_0000_0000_4000_8000_0000_0000_0001 + len(self.pages)))
