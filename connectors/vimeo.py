"""Vimeo: schemas, validation and the tus upload connector.

What the connector sends (developer.vimeo.com/api/upload/videos, "resumable
uploads"), `Authorization: bearer <token>`, `Accept: application/vnd.vimeo.*+json;
version=3.4`:

1. `POST /me/videos` `{"upload": {"approach": "tus", "size": "<bytes>"}, "name",
   "description", "privacy": {"view": <config.privacy>}}` -> 200 with the video:
   `uri` ("/videos/<id>"), `link` (the permalink) and `upload.upload_link`;
2. the bytes, in chunks: `PATCH <upload_link>` with `Tus-Resumable: 1.0.0`,
   `Upload-Offset: <bytes the server has>` and `Content-Type:
   application/offset+octet-stream` -> 204 with the new `Upload-Offset`. After a chunk
   that got no answer, `HEAD <upload_link>` (with `Tus-Resumable`) says how much the
   server holds (`Upload-Offset`), and the upload resumes from there.

Step 1 makes the video on Vimeo. So its failures are mapped as usual (401 AuthExpired,
429 RateLimited with `Retry-After` or `X-RateLimit-Reset`, 5xx Transient, an unknown
outcome Ambiguous, other 4xx Permanent), but once it succeeded, an upload that cannot
be finished is Ambiguous: the video exists (unplayable) and trying the delivery again
would make a second one. Vimeo's errors are `{"error", "developer_message",
"error_code"}`; a 403 is a token without the `upload` scope (AuthExpired) unless its
code says the account's quota is used up (Permanent).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

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
)
from connectors.check_answers import check_failed, shown_name, unexpected_answer
from connectors.http import USER_AGENT, body_excerpt, excerpt, json_body, redact, retry_after, send
from connectors.rules import MB, media_problems, refuse, within_limits

DEFAULT_API_BASE = "https://api.vimeo.com"
ACCEPT = "application/vnd.vimeo.*+json;version=3.4"
TUS_VERSION = "1.0.0"
CHUNK_BYTES = 128 * MB
RESUMES = 5  # HEAD-and-resume rounds after chunks that got no answer
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
QUOTA_CODES = frozenset({4101, 4102, 8002})  # upload quota used up, storage full
MAX_TITLE = 128

Privacy = Literal["anybody", "unlisted", "nobody", "disable", "contacts"]


class VimeoConfig(PlatformConfig):
    privacy: Privacy = "anybody"


class VimeoCredentials(PlatformCredentials):
    access_token: str


class VimeoConnector(Connector):
    """Uploads the post's video to the token's Vimeo account with tus."""

    slug = "vimeo"
    label = "Vimeo"
    short_label = "Vimeo"
    audience = "external"
    limits = Limits(
        text_required=False,
        title=MAX_TITLE,
        media_types={
            "video/mp4": 256 * 1024 * MB,
            "video/quicktime": 256 * 1024 * MB,
            "video/webm": 256 * 1024 * MB,
        },
        single_file="video",
    )
    config: VimeoConfig
    credentials: VimeoCredentials
    config_model = VimeoConfig
    credentials_model = VimeoCredentials
    chunk_bytes: int = CHUNK_BYTES

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    @property
    def base(self) -> str:
        return (self.config.api_base or DEFAULT_API_BASE).rstrip("/")

    def secrets(self) -> list[str]:
        return [self.credentials.access_token]

    def _headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"bearer {self.credentials.access_token}",
            "Accept": ACCEPT,
            "User-Agent": USER_AGENT,
            **extra,
        }

    # -- answers -------------------------------------------------------------------------

    def _message(self, response: httpx.Response) -> str:
        body = json_body(response)
        words = body.get("error") if isinstance(body, dict) else None
        text = words if isinstance(words, str) else body_excerpt(response, secrets=self.secrets())
        head = f"Vimeo answered HTTP {response.status_code}"
        return f"{head}: {excerpt(redact(text, self.secrets()))}" if text else head

    def _rate_limit_until(self, headers: httpx.Headers) -> datetime:
        explicit = retry_after(headers, now=self.now())
        if explicit is not None:
            return explicit
        try:
            reset = datetime.fromisoformat(headers.get("x-ratelimit-reset", "").strip())
        except ValueError:
            return self.now() + DEFAULT_RATE_LIMIT_WAIT
        return max(reset, self.now()) if reset.tzinfo else self.now() + DEFAULT_RATE_LIMIT_WAIT

    def _raise_for_answer(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        status, message = response.status_code, self._message(response)
        body = json_body(response)
        code = body.get("error_code") if isinstance(body, dict) else None
        if status == 429:
            raise RateLimited(message, self._rate_limit_until(response.headers))
        if status >= 500:
            raise Transient(message)
        if status == 401:
            raise AuthExpired(f"{message} (reconnect the channel)")
        if status == 403 and code not in QUOTA_CODES:
            raise AuthExpired(f"{message} (the token needs the upload scope: reconnect)")
        raise Permanent(
            message, code=f"vimeo_{code}" if isinstance(code, int) else f"http_{status}"
        )

    # -- publishing ----------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(media_problems(type(self), request.media), code="media")
        video = request.media[0]
        try:
            size = video.path.stat().st_size
        except OSError:
            raise Permanent(
                f"{video.filename}: the media file cannot be read", code="media_missing"
            ) from None
        created = await self._create(request, video, size)
        upload = created.get("upload")
        link = upload.get("upload_link") if isinstance(upload, dict) else None
        uri, permalink = created.get("uri"), created.get("link")
        result = PublishResult(
            external_id=uri.rsplit("/", 1)[-1] if isinstance(uri, str) and uri else None,
            permalink=permalink if isinstance(permalink, str) and permalink else None,
        )
        if not isinstance(link, str) or not link:
            raise Ambiguous("Vimeo made the video but gave no upload address")
        try:
            await self._upload(link, video, size)
        except (PublishError, OSError) as exc:
            detail = exc.message if isinstance(exc, PublishError) else "the file could not be read"
            where = f" at {result.permalink}" if result.permalink else ""
            raise Ambiguous(
                f"Vimeo made the video{where} but its upload did not finish ({detail}); "
                "not tried again, so that no second video is made"
            ) from None
        return result

    async def _create(self, request: PublishRequest, video: MediaFile, size: int) -> dict[str, Any]:
        payload = {
            "upload": {"approach": "tus", "size": str(size)},
            "name": (request.title or "").strip() or video.filename,
            "description": request.text,
            "privacy": {"view": self.config.privacy},
        }
        response = await send(
            self.http,
            "POST",
            f"{self.base}/me/videos",
            json=payload,
            headers=self._headers(),
            secrets=self.secrets(),
        )
        self._raise_for_answer(response)
        body = json_body(response)
        if not isinstance(body, dict):
            raise Ambiguous("Vimeo answered without the video it made")
        return body

    async def _upload(self, link: str, video: MediaFile, size: int) -> None:
        offset, resumes = 0, 0
        with video.path.open("rb") as handle:
            while offset < size:
                handle.seek(offset)
                chunk = handle.read(self.chunk_bytes)
                try:
                    offset = await self._patch(link, offset, chunk)
                except (Ambiguous, Transient):
                    resumes += 1
                    if resumes > RESUMES:
                        raise
                    offset = await self._offset(link)

    async def _patch(self, link: str, offset: int, chunk: bytes) -> int:
        headers = self._headers(
            **{
                "Tus-Resumable": TUS_VERSION,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
        )
        response = await send(
            self.http,
            "PATCH",
            link,
            content=chunk,
            headers=headers,
            secrets=[*self.secrets(), link],
        )
        self._raise_for_answer(response)
        return self._offset_of(response, fallback=offset + len(chunk))

    async def _offset(self, link: str) -> int:
        headers = self._headers(**{"Tus-Resumable": TUS_VERSION})
        response = await send(
            self.http, "HEAD", link, headers=headers, secrets=[*self.secrets(), link]
        )
        self._raise_for_answer(response)
        return self._offset_of(response, fallback=0)

    @staticmethod
    def _offset_of(response: httpx.Response, *, fallback: int) -> int:
        value = response.headers.get("upload-offset", "").strip()
        return int(value) if value.isdigit() else fallback

    # -- checking ------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """`GET /me`: the account the token belongs to. Uploads nothing."""
        try:
            response = await send(
                self.http, "GET", f"{self.base}/me", headers=self._headers(), secrets=self.secrets()
            )
            self._raise_for_answer(response)
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=httpx.URL(self.base).host)
        me = json_body(response)
        if not isinstance(me, dict) or not isinstance(me.get("name"), str):
            return unexpected_answer(self.short_label)
        return CheckResult(
            ok=True,
            detail=f"Vimeo accepts the token of {shown_name(me['name'])}",
            account={k: me[k] for k in ("uri", "name", "link") if k in me},
        )
