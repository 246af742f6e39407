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
- `GET /v1.0/sites?search=*` -> `{"value": [sites]}`: the sites the token may see.
- The Connect flow, Microsoft identity platform v2 for the tenant: the consent page
  at `/{tenant}/oauth2/v2.0/authorize` (tests.fakes.oauth, with PKCE) and
  `POST /{tenant}/oauth2/v2.0/token` (client id and secret in the form) redeeming a
  code or a refresh token (rotated: a used one is refused with `invalid_grant`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.forms import read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.scripted import Handler, ScriptedFake
from tests.fakes.sinks import Answer, RecordedRequest, json_answer, text_answer

TOKEN = "eyJ0eXAiOiJKV1QiSharePointToken.x9"
READ_ONLY_TOKEN = "eyJ0eXAiOiJKV1QiReadOnlyToken.q1"
SITE_ID = "contoso.sharepoint.com,2C712604-1370-44E7-A1F5-426573FDA80A,2D2244C3-251A-49EA-93A8-39E1C3A060FE"
SITE_URL = "https://contoso.sharepoint.com/sites/news"
TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "0b8f2c1e-cadence-sharepoint"
CLIENT_SECRET = "Zk8Q~cadence-sharepoint-secret"


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
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    issued: list[tuple[str, str]] = field(default_factory=list)
    refresh_tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.authorization = AuthorizationServer(
            clients=self.clients,
            authorize_path=f"/{TENANT}/oauth2/v2.0/authorize",
            name="Microsoft",
            pkce=True,
            code_prefix="0.ASoA",
        )
        super().__post_init__()

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        site = "/v1.0/sites/([^/]+)"
        oauth = f"/{TENANT}/oauth2/v2.0"
        return {
            ("GET", "/v1.0/sites"): ("search", self._search),
            ("GET", f"{oauth}/authorize"): ("authorize", self._authorize),
            ("POST", f"{oauth}/authorize/decide"): ("authorize", self._authorize),
            ("POST", f"{oauth}/token"): ("token", self._token),
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

    def _search(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        if self.bearer(request) not in self.tokens:
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        site = {"id": SITE_ID, "displayName": "Staff news", "webUrl": SITE_URL}
        return json_answer(200, {"value": [site]})

    def _authorize(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        return self.authorization.handle(request)

    def _token(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        form = read_form(request)
        if self.clients.get(form.get("client_id") or "") != form.get("client_secret"):
            return json_answer(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.authorization.redeem(form, form.get("client_id") or "")
                if isinstance(grant, Refusal):
                    return json_answer(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": f"AADSTS70000: {grant.description}",
                        },
                    )
            elif form.get("grant_type") == "refresh_token":
                old = form.get("refresh_token") or ""
                if old not in self.refresh_tokens:
                    return json_answer(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "AADSTS70000: expired or revoked",
                        },
                    )
                self.refresh_tokens.discard(old)
            else:
                return json_answer(400, {"error": "unsupported_grant_type"})
            serial = len(self.issued) + 1
            access, refresh = f"eyJ0eXAiOiJKV1Qi.sharepoint.{serial}", f"0.ASoA-refresh-{serial}"
            self.issued.append((access, refresh))
            self.refresh_tokens.add(refresh)
            self.tokens[access] = True
        return json_answer(
            200,
            {
                "token_type": "Bearer",
                "scope": "https://graph.microsoft.com/Sites.ReadWrite.All",
                "expires_in": 3599,
                "access_token": access,
                "refresh_token": refresh,
            },
        )
