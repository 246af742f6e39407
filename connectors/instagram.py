"""Instagram professional accounts: schemas, validation and the Graph API connector.

Content publishing (developers.facebook.com/docs/instagram-platform/content-publishing),
all form-encoded with the Page access token as `access_token`, on graph.facebook.com:

1. a container per file: `POST /{version}/{ig-user-id}/media` with `image_url` (JPEG),
   or `media_type=REELS` + `video_url`; for several files each is a carousel item
   (`is_carousel_item=true`) and a `media_type=CAROUSEL` container takes their ids as
   `children`; the caption goes on the container that is published -> `{"id"}`;
2. `GET /{version}/{container-id}?fields=status_code` until `FINISHED` (`IN_PROGRESS`
   meanwhile; `ERROR` or `EXPIRED` end it: Permanent);
3. `POST /{version}/{ig-user-id}/media_publish` with `creation_id` -> `{"id": <media
   id>}`: the external id. The permalink is asked afterwards (`GET /{media-id}?fields=
   permalink`); if that fails the post is still published, without a link.

Instagram fetches each file from its URL, so files go by the public address Cadence
serves them at (`CADENCE_BASE_URL/media/...`): that address must be reachable from the
internet. Containers are seen by nobody until published: anything going wrong before
`media_publish` is Transient at worst, never Ambiguous.

Errors are Graph error objects, read as for Facebook Pages (connectors/facebook.py):
codes 102/190 and permission codes are AuthExpired, the rate-limit codes wait as the
usage headers say; code 9 subcode 2207042 (the 24-hour publishing limit) waits a day.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
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
from connectors.facebook import (
    BUC_RATE_LIMIT_CODES,
    PERMISSION_CODES,
    RATE_LIMIT_CODES,
    TOKEN_CODES,
    TRANSIENT_CODES,
    rate_limit_until,
)
from connectors.http import (
    USER_AGENT,
    body_excerpt,
    check_common_status,
    excerpt,
    json_body,
    redact,
    send,
)
from connectors.rules import MB, refuse, within_limits

GRAPH_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v24.0"
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MIN_RATIO, MAX_RATIO = 4 / 5, 1.91  # width / height of a feed image
PUBLISH_LIMIT = (9, 2207042)  # code, subcode: 24-hour content publishing limit
CONTAINER_POLL_SECONDS = 2.0
CONTAINER_POLLS = 90
_TOKENS = re.compile(r"\s+")  # fixed pattern: white space


class InstagramConfig(PlatformConfig):
    ig_user_id: str = Field(pattern=r"^[0-9]{1,32}$")
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^v[0-9]+\.[0-9]+$")


class InstagramCredentials(PlatformCredentials):
    page_access_token: str


def _count_marks(text: str, mark: str) -> int:
    """Words starting with `mark` (# or @) followed by a word character. Linear."""
    return sum(
        1
        for word in _TOKENS.split(text)
        if len(word) > 1 and word[0] == mark and (word[1].isalnum() or word[1] == "_")
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class InstagramConnector(Connector):
    """Publishes an image, a carousel or a reel to an Instagram professional account."""

    slug = "instagram"
    label = "Instagram (professional account)"
    short_label = "Instagram"
    audience = "external"
    limits = Limits(
        text=2200,
        text_required=False,
        media_types={"image/jpeg": 8 * MB, "video/mp4": 300 * MB, "video/quicktime": 300 * MB},
        max_images=10,
        max_videos=1,
    )
    config: InstagramConfig
    credentials: InstagramCredentials
    config_model = InstagramConfig
    credentials_model = InstagramCredentials
    poll_seconds: float = CONTAINER_POLL_SECONDS

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        problems = within_limits(cls, request)
        if not request.media:
            problems.append(Problem("media_ids", "Instagram needs an image or a video"))
        tags, mentions = _count_marks(request.text, "#"), _count_marks(request.text, "@")
        if tags > MAX_HASHTAGS:
            problems.append(Problem("text", f"{tags} hashtags, Instagram takes at most 30"))
        if mentions > MAX_MENTIONS:
            problems.append(Problem("text", f"{mentions} mentions, Instagram takes at most 20"))
        for m in request.media:
            if m.kind == "image" and m.width and m.height:
                ratio = m.width / m.height
                if not MIN_RATIO - 1e-3 <= ratio <= MAX_RATIO + 1e-3:
                    problems.append(
                        Problem(
                            "media_ids",
                            f"{m.filename}: {m.width} x {m.height}, Instagram takes images from "
                            "4:5 (portrait) to 1.91:1 (landscape)",
                        )
                    )
        return problems

    # -- Graph calls ---------------------------------------------------------------------

    def _url(self, node: str, edge: str | None = None) -> str:
        base = (self.config.api_base or GRAPH_BASE).rstrip("/")
        path = f"{base}/{quote(self.config.api_version, safe='')}/{quote(node, safe='')}"
        return f"{path}/{edge}" if edge else path

    def secrets(self) -> list[str]:
        return [self.credentials.page_access_token]

    async def _call(
        self, method: str, url: str, fields: dict[str, str] | None = None
    ) -> dict[str, Any]:
        values = {**(fields or {}), "access_token": self.credentials.page_access_token}
        kwargs: dict[str, Any] = {"headers": {"User-Agent": USER_AGENT}}
        kwargs["params" if method == "GET" else "data"] = values
        response = await send(self.http, method, url, secrets=self.secrets(), **kwargs)
        body = json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            raise self._graph_error(response, error)
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )
        if not response.is_success:
            detail = body_excerpt(response, secrets=self.secrets())
            raise Permanent(
                f"Instagram answered HTTP {response.status_code}: {detail}",
                code=f"http_{response.status_code}",
            )
        if not isinstance(body, dict):
            raise Ambiguous(
                f"Instagram answered HTTP {response.status_code} without the expected JSON"
            )
        return body

    def _graph_error(self, response: httpx.Response, error: dict[str, Any]) -> PublishError:
        code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
        words = error.get("error_user_msg") or error.get("message") or ""
        text = f"Instagram answered code {code}"
        if subcode is not None:
            text += f", subcode {subcode}"
        if words:
            text += f": {excerpt(redact(str(words), self.secrets()), 300)}"
        if code in TOKEN_CODES or code in PERMISSION_CODES:
            return AuthExpired(f"{text} (reconnect the channel)")
        if (code, subcode) == PUBLISH_LIMIT:
            return RateLimited(text, self.now() + timedelta(hours=24))
        if code in RATE_LIMIT_CODES or (code is not None and code in BUC_RATE_LIMIT_CODES):
            return RateLimited(text, rate_limit_until(response.headers, self.now()))
        if code in TRANSIENT_CODES or response.status_code >= 500 or error.get("is_transient"):
            return Transient(text)
        return Permanent(text, code=f"instagram_{code}" if code is not None else "instagram")

    # -- publishing ----------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(self.validate(request), code="invalid")
        try:
            container = await self._container(request)
            await self._wait_finished(container)
        except Ambiguous as exc:
            raise Transient(
                f"{exc.message}; nothing was published (containers are private)"
            ) from None
        answer = await self._call(
            "POST", self._url(self.config.ig_user_id, "media_publish"), {"creation_id": container}
        )
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            return PublishResult()
        return PublishResult(external_id=media_id, permalink=await self._permalink(media_id))

    async def _container(self, request: PublishRequest) -> str:
        caption = request.text
        if request.link and request.link not in caption:
            caption = f"{caption.rstrip()}\n\n{request.link}".strip()
        if len(request.media) == 1:
            return await self._item(request.media[0], {"caption": caption})
        children = [await self._item(m, {"is_carousel_item": "true"}) for m in request.media]
        for child in children:
            await self._wait_finished(child)
        fields = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
        return await self._new_container(fields)

    async def _item(self, media: MediaFile, fields: dict[str, str]) -> str:
        if not media.url:
            raise Permanent(
                f"{media.filename}: Instagram fetches files by URL, and this one has none "
                "(set CADENCE_BASE_URL)",
                code="media_url",
            )
        if media.kind == "video":
            fields = {**fields, "media_type": "REELS", "video_url": media.url}
        else:
            fields = {**fields, "image_url": media.url}
        return await self._new_container(fields)

    async def _new_container(self, fields: dict[str, str]) -> str:
        answer = await self._call("POST", self._url(self.config.ig_user_id, "media"), fields)
        container = answer.get("id")
        if not isinstance(container, str) or not container:
            raise Transient("Instagram did not return the id of a media container")
        return container

    async def _wait_finished(self, container: str) -> None:
        for _ in range(CONTAINER_POLLS):
            answer = await self._call("GET", self._url(container), {"fields": "status_code"})
            status = answer.get("status_code")
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED"):
                raise Permanent(
                    f"Instagram could not use the file (container status {status}); check "
                    "that its URL can be fetched from the internet and its format",
                    code=f"container_{str(status).lower()}",
                )
            await asyncio.sleep(self.poll_seconds)
        raise Transient("Instagram is still processing the file; nothing was published")

    async def _permalink(self, media_id: str) -> str | None:
        try:
            answer = await self._call("GET", self._url(media_id), {"fields": "permalink"})
        except PublishError:
            return None  # published all the same
        link = answer.get("permalink")
        return link if isinstance(link, str) and link else None

    # -- checking ------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """`GET /{ig-user-id}?fields=username`: the account the token reaches."""
        url = self._url(self.config.ig_user_id)
        try:
            answer = await self._call("GET", url, {"fields": "username"})
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=httpx.URL(url).host)
        name = answer.get("username")
        if not isinstance(name, str) or not name:
            return unexpected_answer(self.short_label)
        return CheckResult(
            ok=True,
            detail=f"Instagram accepts the token for @{shown_name(name)}",
            account={"id": self.config.ig_user_id, "username": name},
        )
