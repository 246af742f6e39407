"""Facebook Pages: schemas, validation and the Graph API connector.

What the connector sends (Graph API, `config.api_version`, form-encoded or multipart,
the Page access token as the `access_token` parameter):

- text or link: `POST /{version}/{page-id}/feed` with `message` and `link`;
- one image: `POST /{version}/{page-id}/photos`, multipart `source` + `caption`;
- several images: each one to `/photos` with `published=false`, then a feed post with
  `attached_media[i]={"media_fbid": "<photo id>"}` in upload order;
- one video: `POST /{version}/{page-id}/videos` on graph-video.facebook.com, multipart
  `source` + `description` (+ `title`).

`config.api_base`, when set, replaces both hosts (tests point it at a fake Graph API).
The external id is the post id (`post_id` when the answer has one, else `id`); the
permalink is `https://www.facebook.com/{post-id}`, built rather than asked for, so a
publish is exactly one request per file plus one feed post.

Errors are read from the Graph error object (`error.code`, `error.error_subcode`), see
`FacebookConnector._graph_error`; answers without one go through the shared HTTP rules.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

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
    reported,
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

DEFAULT_API_VERSION = "v24.0"
GRAPH_BASE = "https://graph.facebook.com"
GRAPH_VIDEO_BASE = "https://graph-video.facebook.com"
PERMALINK = "https://www.facebook.com/{}"

# -- Graph error codes (developers.facebook.com/docs/graph-api/guides/error-handling,
#    .../overview/rate-limiting) ----------------------------------------------------
TOKEN_CODES = frozenset({102, 190})  # API session / access token expired, revoked, invalid
# 4 app, 17 user, 32 page, 341 app limit, 613 custom limit; 80000-80014 are the Business
# Use Case limits (80001: Pages), which Page access tokens are subject to.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
BUC_RATE_LIMIT_CODES = range(80000, 80015)
TRANSIENT_CODES = frozenset({1, 2})  # API unknown / API service: downtime, retry later
PERMISSION_CODES = frozenset({10, *range(200, 300)})
BLOCKED = 368  # temporarily blocked for policy violations
DUPLICATE = 506  # duplicate post
INVALID_PARAMETER = 100

# When a rate-limit answer names no wait (no Retry-After, no positive
# estimated_time_to_regain_access): the Platform limits count over a rolling hour, so a
# usage header at or above 100 % is certainly clear an hour later; below that (or with no
# usage header at all) the limit that struck is a short-window one (613, a burst limit):
# a few minutes is Facebook's own "wait and retry".
FULL_USAGE_WAIT = timedelta(hours=1)
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
# The longest window Graph counts over (Pages: 24 hours): a larger estimate is garbage.
MAX_RATE_LIMIT_WAIT = timedelta(hours=24)
USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage")
BUC_HEADER = "x-business-use-case-usage"


class FacebookConfig(PlatformConfig):
    page_id: str
    api_version: str = DEFAULT_API_VERSION


class FacebookCredentials(PlatformCredentials):
    page_access_token: str


# -- usage headers -------------------------------------------------------------------


def _json_header(headers: httpx.Headers, name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _buc_entries(headers: httpx.Headers) -> list[dict[str, Any]]:
    """The entries of `X-Business-Use-Case-Usage`: {"<id>": [{"type", "call_count", ...}]}."""
    data = _json_header(headers, BUC_HEADER)
    if not isinstance(data, dict):
        return []
    return [
        entry
        for entries in data.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]


def regain_access_minutes(headers: httpx.Headers) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in the BUC header, if > 0."""
    waits = [_number(e.get("estimated_time_to_regain_access")) for e in _buc_entries(headers)]
    positive = [w for w in waits if w is not None and w > 0]
    return max(positive) if positive else None


def peak_usage(headers: httpx.Headers) -> float | None:
    """The highest percentage in any usage header (call count, CPU time, total time)."""
    samples: list[dict[str, Any]] = _buc_entries(headers)
    for name in USAGE_HEADERS:
        data = _json_header(headers, name)
        if isinstance(data, dict):
            samples.append(data)
    values = [
        _number(s.get(k))
        for s in samples
        for k in ("call_count", "total_cputime", "total_time", "acc_id_util_pct")
    ]
    known = [v for v in values if v is not None]
    return max(known) if known else None


def rate_limit_until(headers: httpx.Headers, now: datetime) -> datetime:
    """When to try again after a Graph rate-limit error.

    `Retry-After` if an answer carries one (Graph does not document it, but it is the
    HTTP way), else the BUC header's `estimated_time_to_regain_access` (minutes, at
    most a day), else an hour when a usage header shows 100 % or more, else five minutes.
    """
    explicit = retry_after(headers, now=now)
    if explicit is not None:
        return explicit
    minutes = regain_access_minutes(headers)
    if minutes is not None:
        return now + min(timedelta(minutes=min(minutes, 1e6)), MAX_RATE_LIMIT_WAIT)
    usage = peak_usage(headers)
    if usage is not None and usage >= 100:
        return now + FULL_USAGE_WAIT
    return now + DEFAULT_RATE_LIMIT_WAIT


# -- the connector -------------------------------------------------------------------


def _with_link(text: str, link: str | None) -> str:
    """The text, then the link on its own paragraph unless the text already holds it."""
    if not link or link in text:
        return text
    return f"{text.rstrip()}\n\n{link}" if text.strip() else link


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class FacebookConnector(Connector):
    """Publishes to one Facebook Page with a Page access token (see the module doc)."""

    slug = "facebook"
    label = "Facebook Page"
    short_label = "Facebook"
    audience = "external"
    limits = Limits(
        text=63_206,
        media_types={
            "image/jpeg": 10 * MB,
            "image/png": 10 * MB,
            "image/gif": 10 * MB,
            "image/webp": 10 * MB,
            "video/mp4": 1024 * MB,
            "video/quicktime": 1024 * MB,
        },
        max_images=10,
        max_videos=1,
    )
    config: FacebookConfig
    credentials: FacebookCredentials
    config_model = FacebookConfig
    credentials_model = FacebookCredentials

    # -- addresses -------------------------------------------------------------------

    def _url(self, edge: str | None = None, *, video: bool = False) -> str:
        base = self.config.api_base or (GRAPH_VIDEO_BASE if video else GRAPH_BASE)
        version = quote(self.config.api_version.strip("/"), safe="")
        node = f"{base.rstrip('/')}/{version}/{quote(self.config.page_id, safe='')}"
        return f"{node}/{edge}" if edge else node

    def secrets(self) -> list[str]:
        return [self.credentials.page_access_token]

    # -- publishing ------------------------------------------------------------------

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    async def publish(self, request: PublishRequest) -> PublishResult:
        done = {part.index: part for part in request.done_parts}
        if 0 in done:  # a retry of a first comment: the post is out already
            first = PublishResult(done[0].external_id, done[0].permalink)
        else:
            first = await reported(request, 0, await self._publish_post(request))
        if request.first_comment and 1 not in done:
            await reported(request, 1, await self._comment(first, request.first_comment))
        return first

    async def _comment(self, post: PublishResult, message: str) -> PublishResult:
        """The first comment: `POST /{post-id}/comments` right after the post."""
        if not post.external_id:
            raise Ambiguous(
                "Facebook published the post without saying its id, so its first comment "
                "was not added; add it on Facebook"
            )
        node = self._url().rsplit("/", 1)[0] + "/" + quote(post.external_id, safe="")
        answer = await self._call("POST", f"{node}/comments", data={"message": message})
        comment_id = answer.get("id")
        if not isinstance(comment_id, str) or not comment_id:
            return PublishResult()
        link = f"{post.permalink}?comment_id={quote(comment_id.rsplit('_', 1)[-1])}"
        return PublishResult(external_id=comment_id, permalink=link if post.permalink else None)

    async def _publish_post(self, request: PublishRequest) -> PublishResult:
        # A video goes alone (the limits say so); a GIF goes up as a photo (the /photos
        # edge takes GIF), alone like a video.
        refuse(media_problems(type(self), request.media), code="media")
        videos = [m for m in request.media if m.kind == "video"]
        images = [m for m in request.media if m.kind in ("image", "gif")]
        if videos:
            return await self._publish_video(request, videos[0])
        if len(images) == 1:
            return await self._publish_photo(request, images[0])
        if images:
            return await self._publish_album(request, images)
        fields = {"message": request.text, "link": request.link or ""}
        return await self._publish_feed({k: v for k, v in fields.items() if v.strip()})

    async def _publish_feed(self, fields: dict[str, str]) -> PublishResult:
        answer = await self._call("POST", self._url("feed"), data=fields)
        return self._result(answer)

    async def _publish_photo(self, request: PublishRequest, image: MediaFile) -> PublishResult:
        caption = _with_link(request.text, request.link)
        answer = await self._upload(
            self._url("photos"), image, {"caption": caption} if caption else {}
        )
        return self._result(answer)

    async def _publish_album(
        self, request: PublishRequest, images: Iterable[MediaFile]
    ) -> PublishResult:
        photo_ids: list[str] = []
        for image in images:
            try:
                answer = await self._upload(self._url("photos"), image, {"published": "false"})
            except Ambiguous as exc:
                # An unpublished photo is seen by nobody: no post can exist yet.
                raise Transient(
                    f"{exc.message}; nothing was published (the photos are uploaded "
                    "unpublished before the post)"
                ) from None
            photo_id = answer.get("id")
            if isinstance(photo_id, int) and not isinstance(photo_id, bool):
                photo_id = str(photo_id)
            if not isinstance(photo_id, str) or not photo_id:
                # Still nothing published: the photos so far are unpublished.
                raise Transient("Facebook did not return the id of an uploaded photo")
            photo_ids.append(photo_id)
        fields = {"message": _with_link(request.text, request.link)}
        for index, photo_id in enumerate(photo_ids):
            fields[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        return await self._publish_feed(fields)

    async def _publish_video(self, request: PublishRequest, video: MediaFile) -> PublishResult:
        fields = {"description": _with_link(request.text, request.link)}
        if request.title:
            fields["title"] = request.title
        answer = await self._upload(self._url("videos", video=True), video, fields)
        return self._result(answer)

    async def _upload(self, url: str, media: MediaFile, fields: dict[str, str]) -> dict[str, Any]:
        with ExitStack() as stack:
            try:
                handle = stack.enter_context(media.path.open("rb"))
            except OSError:
                raise Permanent(
                    f"{media.filename}: the media file cannot be read", code="media_missing"
                ) from None
            return await self._call(
                "POST",
                url,
                data=fields,
                files={"source": (media.filename, handle, media.content_type)},
            )

    @staticmethod
    def _result(answer: dict[str, Any]) -> PublishResult:
        post_id = answer.get("post_id") or answer.get("id")
        if isinstance(post_id, int) and not isinstance(post_id, bool):
            post_id = str(post_id)
        if not isinstance(post_id, str) or not post_id:
            # Published (a 2xx), but we cannot tell where.
            return PublishResult()
        return PublishResult(external_id=post_id, permalink=PERMALINK.format(quote(post_id)))

    # -- one Graph call --------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        files: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        token = {"access_token": self.credentials.page_access_token}
        kwargs: dict[str, Any] = {"headers": {"User-Agent": USER_AGENT}}
        if method == "GET":
            kwargs["params"] = {**(params or {}), **token}
        else:
            kwargs["data"] = {**(data or {}), **token}
            if files:
                kwargs["files"] = files
        response = await send(self.http, method, url, secrets=self.secrets(), **kwargs)
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of a successful answer, or the error kind the answer means."""
        body = json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            raise self._graph_error(response, error)
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )
        if not response.is_success:
            detail = body_excerpt(response, secrets=self.secrets())
            head = f"Facebook answered HTTP {response.status_code}"
            raise Permanent(
                f"{head}: {detail}" if detail else head, code=f"http_{response.status_code}"
            )
        if not isinstance(body, dict):
            raise Ambiguous(
                f"Facebook answered HTTP {response.status_code} without the expected JSON; "
                "the post may have been published"
            )
        return body

    def _graph_error(self, response: httpx.Response, error: dict[str, Any]) -> PublishError:
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        text = self._describe(error, code, subcode)
        if code in TOKEN_CODES:
            return AuthExpired(f"{text} (the Page token no longer works: reconnect the channel)")
        if code in RATE_LIMIT_CODES or (code is not None and code in BUC_RATE_LIMIT_CODES):
            return RateLimited(text, rate_limit_until(response.headers, self.now()))
        if code in TRANSIENT_CODES:
            return Transient(text)
        if code in PERMISSION_CODES:
            # The Page token lacks a permission (pages_manage_posts revoked, the person
            # who connected the Page lost their role on it, ...). Nothing about this
            # post can fix that, but reconnecting does: it issues a new Page token with
            # the permissions granted again. So it is the channel's problem, like an
            # expired token: AuthExpired marks the channel needs_reconnect.
            return AuthExpired(
                f"{text} (the Page token lacks a permission: reconnect the channel and grant it)"
            )
        if code == BLOCKED:
            return Permanent(
                f"{text} (Facebook has temporarily blocked this Page or app from posting "
                "for a policy violation; this post will not be retried)",
                code="blocked",
            )
        if code == DUPLICATE:
            return Permanent(text, code="duplicate")
        if code == INVALID_PARAMETER:
            return Permanent(text, code="invalid_parameter")
        if response.status_code >= 500 or error.get("is_transient") is True:
            return Transient(text)
        return Permanent(text, code=f"facebook_{code}" if code is not None else "facebook_error")

    def _describe(self, error: dict[str, Any], code: int | None, subcode: int | None) -> str:
        message = error.get("message")
        parts = [str(message)] if message else []
        user_message = error.get("error_user_msg")
        if user_message and user_message != message:
            parts.append(str(user_message))
        ident = f"code {code}" if code is not None else "an error"
        if subcode is not None:
            ident += f", subcode {subcode}"
        words = excerpt(redact(" ".join(parts), self.secrets()), 300)
        return f"Facebook answered {ident}: {words}" if words else f"Facebook answered {ident}"

    # -- checking --------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """`GET /{version}/{page-id}?fields=name` with the Page token: reads, posts nothing."""
        url = self._url()
        try:
            answer = await self._call("GET", url, params={"fields": "name"})
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=httpx.URL(url).host)
        name = answer.get("name")
        if not isinstance(name, str) or not name:
            return unexpected_answer(self.short_label)
        return CheckResult(
            ok=True,
            detail=f"Connected to the Facebook Page {shown_name(name)!r}",
            account={"id": str(answer.get("id") or self.config.page_id), "name": name},
        )
