"""LinkedIn organisation pages: schemas, validation and the versioned REST connector.

What the connector sends (learn.microsoft.com/linkedin/marketing/community-management/
shares/posts-api and .../images-api), every call with `Authorization: Bearer <token>`,
`LinkedIn-Version: <YYYYMM>` (`config.api_version`) and `X-Restli-Protocol-Version:
2.0.0`:

- each image: `POST /rest/images?action=initializeUpload` `{"initializeUploadRequest":
  {"owner": <organization urn>}}` -> `{"value": {"uploadUrl", "image":
  "urn:li:image:..."}}`, then `PUT <uploadUrl>` with the bytes;
- the post: `POST /rest/posts` `{author, commentary, visibility: PUBLIC, distribution,
  lifecycleState: PUBLISHED, content}` where content is one image (`media`), several
  (`multiImage`), or the post's link as an article (`article`: source and title). 201
  with the post's URN in the `x-restli-id` header: the external id; the permalink is
  `https://www.linkedin.com/feed/update/<urn>/`.

The commentary is in LinkedIn's "little text" format, where `| { } @ [ ] ( ) < > # \\
* _ ~` are markup: the connector escapes them with a backslash so the text shows as
written (unescaped, LinkedIn cuts the text at the first one it cannot parse).

Errors (`{"status", "serviceErrorCode", "code", "message"}`): 401 (expired or revoked
token) and 403 (the member lost the page role or the `w_organization_social` scope)
are AuthExpired; 429 waits for `Retry-After`, else until midnight UTC (LinkedIn's
limits are daily and reset then); 5xx is Transient; other 4xx are Permanent with
LinkedIn's words. Uploaded images no post uses are seen by nobody: failures before
`/rest/posts` are Transient at worst. Access tokens last 60 days: one whose
`expires_at` has passed is AuthExpired without a call (renewing it is the connect
flow's business).
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    Connector,
    Limits,
    MediaFile,
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
from connectors.http import (
    USER_AGENT,
    body_excerpt,
    check_common_status,
    excerpt,
    json_body,
    redact,
    retry_after,
    send,
)
from connectors.rules import MB, media_problems, refuse, within_limits

DEFAULT_API_BASE = "https://api.linkedin.com"
DEFAULT_API_VERSION = "202511"
PERMALINK = "https://www.linkedin.com/feed/update/{}/"
MAX_PIXELS = 36_152_320  # Images API: the most pixels an image may have
RESERVED = "\\|{}@[]()<>#*_~"  # little text markup; the backslash first


class LinkedInConfig(PlatformConfig):
    organization_urn: str = Field(pattern=r"^urn:li:organization:[0-9]+$", max_length=64)
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^[0-9]{6}$")


class LinkedInCredentials(PlatformCredentials):
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    # From the Connect flow: the app that renews the token with the refresh token.
    client_id: str | None = None
    client_secret: str | None = None


def little_text(text: str) -> str:
    """`text` with LinkedIn's little-text markup characters escaped. Linear."""
    return "".join("\\" + c if c in RESERVED else c for c in text)


def _next_midnight(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class LinkedInConnector(Connector):
    """Posts as an organisation page the token's member administers."""

    slug = "linkedin"
    label = "LinkedIn Page"
    short_label = "LinkedIn"
    audience = "external"
    limits = Limits(
        text=3000,
        media_types={"image/jpeg": 36 * MB, "image/png": 36 * MB, "image/gif": 36 * MB},
        max_images=20,
    )
    config: LinkedInConfig
    credentials: LinkedInCredentials
    _renewed = False  # the access token is renewed at most once per use
    config_model = LinkedInConfig
    credentials_model = LinkedInCredentials

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request) + [
            Problem(
                "media_ids",
                f"{m.filename}: {m.width} x {m.height} pixels, LinkedIn takes at most "
                f"{MAX_PIXELS:,} pixels",
            )
            for m in request.media
            if m.width and m.height and m.width * m.height > MAX_PIXELS
        ]

    # -- calls ---------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return (self.config.api_base or DEFAULT_API_BASE).rstrip("/")

    def secrets(self) -> list[str]:
        c = self.credentials
        return [s for s in (c.access_token, c.refresh_token, c.client_secret) if s]

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials.access_token}",
            "LinkedIn-Version": self.config.api_version,
            "X-Restli-Protocol-Version": "2.0.0",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    @property
    def can_refresh(self) -> bool:
        return self.refresh_credentials is not None and bool(self.credentials.refresh_token)

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        expires = self.credentials.expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)  # a time without a zone is UTC
        if expires is not None and expires <= self.now() and not self.can_refresh:
            raise AuthExpired("the LinkedIn access token has expired: reconnect the channel")
        extra = kwargs.pop("headers", {})
        shown = kwargs.pop("secrets", [])

        async def go() -> httpx.Response:
            headers = {**self._headers(), **extra}
            hidden = [*self.secrets(), *shown]
            return await send(self.http, method, url, headers=headers, secrets=hidden, **kwargs)

        response = await go()
        if response.status_code == 401 and self.can_refresh and not self._renewed:
            # A 401 created nothing: renew the token once (app/connect/tokens.py, single
            # flight across workers) and send again.
            self._renewed = True
            stale = self.credentials.access_token
            fresh = await self.refresh_credentials(stale)  # type: ignore[misc]
            known = {k: v for k, v in fresh.items() if k in LinkedInCredentials.model_fields}
            self.credentials = LinkedInCredentials.model_validate({**known, "expires_at": None})
            response = await go()
        self._raise_for_answer(response)
        return response

    def _message(self, response: httpx.Response) -> str:
        body = json_body(response)
        words = body.get("message") if isinstance(body, dict) else None
        text = words if isinstance(words, str) else body_excerpt(response, secrets=self.secrets())
        head = f"LinkedIn answered HTTP {response.status_code}"
        return f"{head}: {excerpt(redact(text, self.secrets()))}" if text else head

    def _raise_for_answer(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        status = response.status_code
        if status == 429:
            until = retry_after(response.headers, now=self.now()) or _next_midnight(self.now())
            raise RateLimited(self._message(response), until)
        if status == 401:
            raise AuthExpired(f"{self._message(response)} (reconnect the channel)")
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )
        body = json_body(response)
        code = body.get("code") if isinstance(body, dict) else None
        if status == 403:
            raise AuthExpired(
                f"{self._message(response)} (the member needs an admin role on the page and "
                "the w_organization_social permission: reconnect the channel)"
            )
        raise Permanent(
            self._message(response), code=code if isinstance(code, str) else f"http_{status}"
        )

    # -- publishing ----------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(media_problems(type(self), request.media), code="media")
        try:
            images = [await self._upload(item) for item in request.media]
        except Ambiguous as exc:
            raise Transient(f"{exc.message}; nothing was posted (images come first)") from None
        post: dict[str, Any] = {
            "author": self.config.organization_urn,
            "commentary": little_text(request.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        content = self._content(request, images)
        if content:
            post["content"] = content
        response = await self._call("POST", f"{self.base}/rest/posts", json=post)
        urn = response.headers.get("x-restli-id")
        if not urn:
            return PublishResult()  # created (a 2xx), but LinkedIn did not say which
        return PublishResult(external_id=urn, permalink=PERMALINK.format(quote(urn, safe=":")))

    @staticmethod
    def _content(request: PublishRequest, images: list[str]) -> dict[str, Any] | None:
        if len(images) == 1:
            return {"media": {"id": images[0], "altText": request.title or ""}}
        if images:
            return {"multiImage": {"images": [{"id": i, "altText": ""} for i in images]}}
        if request.link:
            article: dict[str, Any] = {
                "source": request.link,
                "title": request.title or request.link,
            }
            return {"article": article}
        return None

    async def _upload(self, media: MediaFile) -> str:
        response = await self._call(
            "POST",
            f"{self.base}/rest/images",
            params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": self.config.organization_urn}},
        )
        answer = json_body(response)
        value = answer.get("value") if isinstance(answer, dict) else None
        upload_url = value.get("uploadUrl") if isinstance(value, dict) else None
        image = value.get("image") if isinstance(value, dict) else None
        if not isinstance(upload_url, str) or not isinstance(image, str):
            raise Transient("LinkedIn did not return an upload address for an image")
        with ExitStack() as stack:
            try:
                data = stack.enter_context(media.path.open("rb")).read()
            except OSError:
                raise Permanent(
                    f"{media.filename}: the media file cannot be read", code="media_missing"
                ) from None
        await self._call(
            "PUT",
            upload_url,
            content=data,
            headers={"Content-Type": "application/octet-stream"},
            secrets=[upload_url],
        )
        return image

    # -- checking ------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """`GET /rest/organizations/{id}`: the page the token posts as. Posts nothing."""
        org_id = self.config.organization_urn.rsplit(":", 1)[-1]
        try:
            response = await self._call("GET", f"{self.base}/rest/organizations/{org_id}")
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=httpx.URL(self.base).host)
        answer = json_body(response)
        name = answer.get("localizedName") if isinstance(answer, dict) else None
        if not isinstance(name, str) or not name:
            return unexpected_answer(self.short_label)
        return CheckResult(
            ok=True,
            detail=f"LinkedIn accepts the token for the page {shown_name(name)!r}",
            account={"id": self.config.organization_urn, "name": name},
        )
