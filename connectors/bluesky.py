"""Bluesky: schemas, validation and the AT Protocol (XRPC) connector.

What the connector sends, to the channel's service (`config.service`, default
https://bsky.social; docs.bsky.app):

- a session: `POST /xrpc/com.atproto.server.createSession` `{identifier: handle,
  password: app password}` -> `{accessJwt, refreshJwt, did, handle}`. The tokens are
  kept with the channel's credentials; when the access token has expired (400
  `ExpiredToken`) the connector renews both with `com.atproto.server.refreshSession`
  (the refresh token as bearer) and, if that is refused too, logs in again;
- each mention's handle -> DID: `GET /xrpc/com.atproto.identity.resolveHandle`
  (a handle that does not resolve is left as plain text, as Bluesky's app does);
- each image: `POST /xrpc/com.atproto.repo.uploadBlob`, the raw bytes with their
  Content-Type -> `{blob}`;
- the post: `POST /xrpc/com.atproto.repo.createRecord` `{repo: did, collection:
  "app.bsky.feed.post", record: {$type, text, createdAt, facets, embed}}` ->
  `{uri: "at://<did>/app.bsky.feed.post/<rkey>", cid}`. The external id is the
  `uri`; the permalink is `https://bsky.app/profile/<handle>/post/<rkey>`.

Facets (links, mentions, tags) sit at UTF-8 byte offsets (connectors/bluesky_text.py).
The embed is the images (`app.bsky.embed.images`, at most 4, 1,000,000 bytes each,
with their aspect ratio) or, without images, the post's link as a card
(`app.bsky.embed.external`).

Errors are XRPC's `{"error": "<Name>", "message"}`: 401 (`AuthenticationRequired`,
a wrong or revoked app password) and `AccountTakedown` are AuthExpired; 429
(`RateLimitExceeded`) waits for `Retry-After`, else `RateLimit-Reset` (Unix seconds),
else five minutes; 5xx is Transient; other 4xx are Permanent with Bluesky's words.
Steps before `createRecord` publish nothing, so their failures are Transient at worst.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
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
    Measure,
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
from connectors.bluesky_text import entities, graphemes
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

DEFAULT_SERVICE = "https://bsky.social"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images: maxSize
POST_COLLECTION = "app.bsky.feed.post"
PERMALINK = "https://bsky.app/profile/{handle}/post/{rkey}"
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
SESSION_REFUSED = frozenset({"AuthenticationRequired", "AccountTakedown", "AccountDeactivated"})
TOKEN_DEAD = frozenset({"ExpiredToken", "InvalidToken"})


class BlueskyConfig(PlatformConfig):
    handle: str = Field(min_length=3, max_length=253)
    service: HttpUrlStr = Field(default=DEFAULT_SERVICE, json_schema_extra=DESTINATION)


class BlueskyCredentials(PlatformCredentials):
    app_password: str
    # The session Cadence keeps between posts (createSession is rate-limited per day).
    access_jwt: str | None = None
    refresh_jwt: str | None = None
    did: str | None = None


class XrpcError(Exception):
    """An XRPC error answer, before it is mapped to a PublishError kind."""

    def __init__(self, response: httpx.Response, name: str | None, words: str) -> None:
        super().__init__(words)
        self.response = response
        self.name = name
        self.words = words


class BlueskyConnector(Connector):
    """Posts to the Bluesky account of `config.handle` with an app password."""

    slug = "bluesky"
    label = "Bluesky"
    short_label = "Bluesky"
    audience = "external"
    limits = Limits(
        text=MAX_GRAPHEMES,
        text_unit="graphemes",
        media_types={"image/jpeg": MB, "image/png": MB, "image/webp": MB},
        max_images=4,
    )
    config: BlueskyConfig
    credentials: BlueskyCredentials
    config_model = BlueskyConfig
    credentials_model = BlueskyCredentials

    @classmethod
    def measure(cls, request: PublishRequest) -> Measure:
        return Measure(graphemes(request.text), MAX_GRAPHEMES, "graphemes")

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        problems = within_limits(cls, request)
        size = len(request.text.encode("utf-8"))
        if size > MAX_BYTES:
            problems.append(Problem("text", f"{size} of {MAX_BYTES} bytes (UTF-8)"))
        problems += [
            Problem(
                "media_ids",
                f"{m.filename}: {m.size:,} bytes, Bluesky takes at most "
                f"{MAX_IMAGE_BYTES:,} bytes per image",
            )
            for m in request.media
            # Over 1 MiB the shared rule has said so; between 10^6 bytes and 1 MiB only this.
            if m.content_type in (cls.limits.media_types or {}) and MAX_IMAGE_BYTES < m.size <= MB
        ]
        return problems

    # -- calls ---------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return (self.config.api_base or self.config.service).rstrip("/")

    def secrets(self) -> list[str]:
        c = self.credentials
        return [s for s in (c.app_password, c.access_jwt, c.refresh_jwt) if s]

    async def _xrpc(
        self, method: str, nsid: str, *, token: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        headers.update(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await send(
            self.http,
            method,
            f"{self.base}/xrpc/{nsid}",
            headers=headers,
            secrets=self.secrets(),
            **kwargs,
        )
        body = json_body(response)
        if response.is_success:
            if not isinstance(body, dict):
                raise XrpcError(response, None, "the answer is not the expected JSON")
            return body
        name = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        words = ": ".join(str(w) for w in (name, message) if isinstance(w, str) and w)
        raise XrpcError(
            response,
            name if isinstance(name, str) else None,
            words or body_excerpt(response, secrets=self.secrets()),
        )

    def _error(self, exc: XrpcError) -> PublishError:
        response = exc.response
        text = f"Bluesky answered HTTP {response.status_code}"
        if exc.words:
            text += f": {excerpt(redact(exc.words, self.secrets()))}"
        if response.status_code == 429:
            return RateLimited(text, self._rate_limit_until(response.headers))
        try:
            check_common_status(
                response, platform=self.short_label, now=self.now(), secrets=self.secrets()
            )
        except AuthExpired:
            return AuthExpired(f"{text} (the app password no longer works: reconnect)")
        except PublishError as common:
            return common
        if exc.name in SESSION_REFUSED or exc.name in TOKEN_DEAD:
            return AuthExpired(text)
        if response.is_success:  # 2xx without the expected JSON
            return Ambiguous(f"{text}; the post may have been published")
        return Permanent(text, code=exc.name or f"http_{response.status_code}")

    def _rate_limit_until(self, headers: httpx.Headers) -> datetime:
        explicit = retry_after(headers, now=self.now())
        if explicit is not None:
            return explicit
        reset = headers.get("ratelimit-reset", "").strip()
        if reset.isdigit():
            return max(datetime.fromtimestamp(int(reset), UTC), self.now())
        return self.now() + DEFAULT_RATE_LIMIT_WAIT

    # -- the session ---------------------------------------------------------------------

    async def _login(self) -> str:
        answer = await self._xrpc(
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": self.config.handle, "password": self.credentials.app_password},
        )
        return await self._keep(answer)

    async def _keep(self, answer: dict[str, Any]) -> str:
        access, refresh, did = answer.get("accessJwt"), answer.get("refreshJwt"), answer.get("did")
        if not all(isinstance(v, str) and v for v in (access, refresh, did)):
            raise Transient("Bluesky did not return a session")
        await self.save_credentials({"access_jwt": access, "refresh_jwt": refresh, "did": did})
        return str(access)

    async def _renew(self) -> str:
        """A fresh access token: refreshSession with the refresh token, else log in."""
        if self.credentials.refresh_jwt:
            try:
                answer = await self._xrpc(
                    "POST",
                    "com.atproto.server.refreshSession",
                    token=self.credentials.refresh_jwt,
                )
                return await self._keep(answer)
            except XrpcError as exc:
                if exc.name not in TOKEN_DEAD and exc.response.status_code not in (400, 401):
                    raise
        return await self._login()

    async def _authed(self, method: str, nsid: str, **kwargs: Any) -> dict[str, Any]:
        """An authenticated call, renewing the session once if its token has expired."""
        token = self.credentials.access_jwt or await self._login()
        try:
            return await self._xrpc(method, nsid, token=token, **kwargs)
        except XrpcError as exc:
            if exc.name not in TOKEN_DEAD and exc.response.status_code != 401:
                raise
        return await self._xrpc(method, nsid, token=await self._renew(), **kwargs)

    # -- publishing ----------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(self.validate(request), code="invalid")
        try:
            record = await self._prepare(request)
        except XrpcError as exc:
            raise _before_post(self._error(exc)) from None
        except Ambiguous as exc:
            raise _before_post(exc) from None
        try:
            answer = await self._authed(
                "POST",
                "com.atproto.repo.createRecord",
                json={
                    "repo": self.credentials.did or self.config.handle,
                    "collection": POST_COLLECTION,
                    "record": record,
                },
            )
        except XrpcError as exc:
            raise self._error(exc) from None
        return self._result(answer)

    async def _prepare(self, request: PublishRequest) -> dict[str, Any]:
        if not self.credentials.access_jwt:
            await self._login()
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": request.text,
            "createdAt": self.now()
            .astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        facets = await self._facets(request.text)
        if facets:
            record["facets"] = facets
        if request.media:
            images = [await self._image(item) for item in request.media]
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        elif request.link:
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {
                    "uri": request.link,
                    "title": request.title or request.link,
                    "description": "",
                },
            }
        return record

    async def _facets(self, text: str) -> list[dict[str, Any]]:
        facets = []
        for entity in entities(text):
            if entity.kind == "link":
                feature = {"$type": "app.bsky.richtext.facet#link", "uri": entity.value}
            elif entity.kind == "tag":
                feature = {"$type": "app.bsky.richtext.facet#tag", "tag": entity.value}
            else:
                did = await self._resolve(entity.value)
                if did is None:
                    continue
                feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            facets.append(
                {
                    "index": {"byteStart": entity.byte_start, "byteEnd": entity.byte_end},
                    "features": [feature],
                }
            )
        return facets

    async def _resolve(self, handle: str) -> str | None:
        try:
            answer = await self._xrpc(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
            )
        except XrpcError as exc:
            if exc.response.status_code == 400:
                return None  # no such handle: the mention stays plain text
            raise
        did = answer.get("did")
        return did if isinstance(did, str) and did.startswith("did:") else None

    async def _image(self, media: MediaFile) -> dict[str, Any]:
        refuse(media_problems(type(self), (media,)), code="media")
        with ExitStack() as stack:
            try:
                data = stack.enter_context(media.path.open("rb")).read()
            except OSError:
                raise Permanent(
                    f"{media.filename}: the media file cannot be read", code="media_missing"
                ) from None
        answer = await self._authed(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": media.content_type},
        )
        blob = answer.get("blob")
        if not isinstance(blob, dict):
            raise Transient("Bluesky did not return the uploaded image")
        image: dict[str, Any] = {"alt": "", "image": blob}
        if media.width and media.height:
            image["aspectRatio"] = {"width": media.width, "height": media.height}
        return image

    def _result(self, answer: dict[str, Any]) -> PublishResult:
        uri = answer.get("uri")
        if not isinstance(uri, str) or not uri.startswith("at://"):
            return PublishResult()
        rkey = uri.rsplit("/", 1)[-1]
        link = PERMALINK.format(handle=quote(self.config.handle, safe=""), rkey=quote(rkey))
        return PublishResult(external_id=uri, permalink=link)

    # -- checking ------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """Logs in (createSession) and reads the session back. Posts nothing."""
        host = httpx.URL(self.base).host
        try:
            await self._login()
            answer = await self._authed("GET", "com.atproto.server.getSession")
        except XrpcError as exc:
            return check_failed(self._error(exc), label=self.short_label, host=host)
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=host)
        handle, did = answer.get("handle"), answer.get("did")
        if not isinstance(handle, str) or not isinstance(did, str):
            return unexpected_answer(self.short_label)
        return CheckResult(
            ok=True,
            detail=f"Bluesky accepts the app password of @{shown_name(handle)}",
            account={"handle": handle, "did": did},
        )


def _before_post(exc: PublishError) -> PublishError:
    """Nothing is published before createRecord: an unknown outcome there is Transient."""
    if isinstance(exc, Ambiguous):
        return Transient(f"{exc.message}; nothing was posted (the post comes last)")
    return exc
