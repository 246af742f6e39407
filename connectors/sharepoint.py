"""SharePoint news (internal): schemas, validation and the Microsoft Graph connector.

What the connector sends (learn.microsoft.com/graph/api/sitepage-create and
.../sitepage-publish), `Authorization: Bearer <token>` (Sites.ReadWrite.All):

1. `GET /v1.0/sites/{site-id}`: the site's `webUrl`, to build the news post's link;
2. `POST /v1.0/sites/{site-id}/pages` a `#microsoft.graph.sitePage` with `name`
   (`<title words>-<delivery>-<time>.aspx`), `title`, `pageLayout: article`,
   `promotionKind: newsPost` and one text web part holding the post (the text as
   paragraphs, the link, each file's public URL) -> 201 with the page (`id`, `webUrl`
   relative to the site). The page is a draft: nobody reads it yet;
3. `POST /v1.0/sites/{site-id}/pages/{page-id}/microsoft.graph.sitePage/publish` ->
   204: the news post is out. The external id is the page id; the permalink the
   site's `webUrl` joined with the page's.

So only step 3 publishes: anything going wrong before it is Transient at worst (a
draft may be left behind, unseen; the next attempt makes a page of another name).
Errors are Graph's `{"error": {"code", "message"}}`: 401 and 403 (`accessDenied`)
are AuthExpired (reconnect, grant the permission), 429 and a 503 with `Retry-After`
are Graph's throttling (RateLimited), other 5xx Transient, 404 (`itemNotFound`: no
such site) and other 4xx Permanent.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field

from connectors.base import (
    DESTINATION,
    Ambiguous,
    AuthExpired,
    CheckResult,
    Connector,
    HttpUrlStr,
    Limits,
    Permanent,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.check_answers import check_failed, shown_name, unexpected_answer
from connectors.http import USER_AGENT, body_excerpt, excerpt, json_body, redact, retry_after, send
from connectors.rules import within_limits

GRAPH_BASE = "https://graph.microsoft.com"
MAX_TITLE = 255
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")  # fixed pattern, linear
_PARAGRAPHS = re.compile(r"\n\s*\n")


class SharePointConfig(PlatformConfig):
    site_id: str = Field(min_length=1, max_length=512)
    # Where the access token is renewed (Microsoft identity platform v2, with the
    # tenant); set by the Connect flow.
    token_url: HttpUrlStr | None = Field(default=None, json_schema_extra=DESTINATION)


class SharePointCredentials(PlatformCredentials):
    access_token: str
    refresh_token: str | None = None
    # From the Connect flow: the app that renews the hour-long token (the token keeper).
    client_id: str | None = None
    client_secret: str | None = None


def page_html(request: PublishRequest) -> str:
    """The post as the text web part's HTML: paragraphs, the link, each file's URL."""
    parts = [
        "<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>"
        for p in _PARAGRAPHS.split(request.text)
        if p.strip()
    ]
    links = [request.link] if request.link else []
    links += [m.url for m in request.media if m.url]
    parts += [f'<p><a href="{html.escape(u)}">{html.escape(u)}</a></p>' for u in links]
    return "".join(parts)


def page_name(title: str, delivery_id: str, stamp: int) -> str:
    words = _NOT_WORD.sub("-", title).strip("-")[:60] or "news"
    return f"{words}-{delivery_id[:12]}-{stamp}.aspx"


class SharePointConnector(Connector):
    """Publishes a news post on one SharePoint site through Microsoft Graph."""

    slug = "sharepoint"
    label = "SharePoint news"
    short_label = "SharePoint"
    audience = "internal"
    limits = Limits(title=MAX_TITLE, title_required=True)
    config: SharePointConfig
    credentials: SharePointCredentials
    _renewed = False  # the access token is renewed at most once per use
    config_model = SharePointConfig
    credentials_model = SharePointCredentials

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    def _site(self, *tail: str) -> str:
        base = (self.config.api_base or GRAPH_BASE).rstrip("/")
        return "/".join([f"{base}/v1.0/sites/{quote(self.config.site_id, safe=',.')}", *tail])

    def secrets(self) -> list[str]:
        c = self.credentials
        return [s for s in (c.access_token, c.refresh_token, c.client_secret) if s]

    @property
    def can_refresh(self) -> bool:
        return self.refresh_credentials is not None and bool(self.credentials.refresh_token)

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.credentials.access_token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        return await send(self.http, method, url, headers=headers, secrets=self.secrets(), **kwargs)

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self._send(method, url, **kwargs)
        if response.status_code == 401 and self.can_refresh and not self._renewed:
            # A 401 created nothing: renew the token once (app/connect/tokens.py, single
            # flight across workers) and send again.
            self._renewed = True
            fresh = await self.refresh_credentials(self.credentials.access_token)  # type: ignore[misc]
            known = {k: v for k, v in fresh.items() if k in SharePointCredentials.model_fields}
            self.credentials = SharePointCredentials.model_validate(known)
            response = await self._send(method, url, **kwargs)
        self._raise_for_answer(response)
        return response

    def _raise_for_answer(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        status = response.status_code
        body = json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        words = error.get("message") if isinstance(error, dict) else None
        text = words if isinstance(words, str) else body_excerpt(response, secrets=self.secrets())
        message = f"SharePoint answered HTTP {status}"
        if text:
            message += f": {excerpt(redact(text, self.secrets()))}"
        waited = retry_after(response.headers, now=self.now())
        if status == 429 or (status == 503 and waited is not None):
            raise RateLimited(message, waited)
        if status >= 500:
            raise Transient(message)
        if status in (401, 403):
            raise AuthExpired(f"{message} (reconnect the channel and grant Sites.ReadWrite.All)")
        raise Permanent(message, code=code if isinstance(code, str) else f"http_{status}")

    async def publish(self, request: PublishRequest) -> PublishResult:
        try:
            site_url, page = await self._draft(request)
        except Ambiguous as exc:
            raise Transient(f"{exc.message}; nothing was published (drafts are unseen)") from None
        await self._call(
            "POST",
            self._site("pages", quote(page["id"], safe=""), "microsoft.graph.sitePage/publish"),
        )
        relative = page.get("webUrl")
        link = None
        if isinstance(relative, str) and relative:
            link = (
                relative if "://" in relative else f"{site_url.rstrip('/')}/{relative.lstrip('/')}"
            )
        return PublishResult(external_id=page["id"], permalink=link)

    async def _draft(self, request: PublishRequest) -> tuple[str, dict[str, Any]]:
        site = json_body(await self._call("GET", self._site()))
        site_url = site.get("webUrl") if isinstance(site, dict) else None
        if not isinstance(site_url, str):
            raise Transient("SharePoint did not say where the site is")
        title = (request.title or "").strip()
        body = {
            "@odata.type": "#microsoft.graph.sitePage",
            "name": page_name(title, request.delivery_id, int(self.now().timestamp())),
            "title": title,
            "pageLayout": "article",
            "promotionKind": "newsPost",
            "showComments": True,
            "showRecommendedPages": False,
            "canvasLayout": {
                "horizontalSections": [
                    {
                        "layout": "oneColumn",
                        "id": "1",
                        "emphasis": "none",
                        "columns": [
                            {
                                "id": "1",
                                "width": 12,
                                "webparts": [
                                    {
                                        "@odata.type": "#microsoft.graph.textWebPart",
                                        "innerHtml": page_html(request),
                                    }
                                ],
                            }
                        ],
                    }
                ]
            },
        }
        page = json_body(await self._call("POST", self._site("pages"), json=body))
        if not isinstance(page, dict) or not isinstance(page.get("id"), str):
            raise Transient("SharePoint did not return the id of the new page")
        return site_url, page

    async def check(self) -> CheckResult:
        """`GET /sites/{site-id}`: the site the token reaches. Publishes nothing."""
        url = self._site()
        try:
            site = json_body(await self._call("GET", url))
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=httpx.URL(url).host)
        name = site.get("displayName") if isinstance(site, dict) else None
        if not isinstance(name, str) or not name:
            return unexpected_answer(self.short_label)
        return CheckResult(
            ok=True,
            detail=f"SharePoint accepts the token for the site {shown_name(name)!r}",
            account={"id": self.config.site_id, "name": name, "url": site.get("webUrl")},
        )
