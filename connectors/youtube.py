"""YouTube: schemas, validation, and the connector (Data API v3, resumable upload, OAuth 2).

What the connector does, in order:

1. **Access token.** It uses `credentials.access_token` when there is one. When there is
   none, or when an upload call answers 401, it refreshes it once: `POST {token_url}`
   (default `https://oauth2.googleapis.com/token`), form `grant_type=refresh_token`,
   `refresh_token`, `client_id`, `client_secret` -> `{"access_token", "expires_in",
   "token_type"}`, and keeps the new token with `save_credentials({"access_token": ...})`.
   A dead refresh token answers 400 `{"error": "invalid_grant"}` (a wrong client 401
   `invalid_client`): `AuthExpired`, the channel needs reconnecting.
2. **Start a resumable session.** `POST {api_base}/upload/youtube/v3/videos?uploadType=
   resumable&part=snippet,status` with `Authorization: Bearer`, `Content-Type:
   application/json; charset=UTF-8`, `X-Upload-Content-Length`, `X-Upload-Content-Type`
   and the video resource `{"snippet": {"title", "description", "tags", "categoryId"},
   "status": {"privacyStatus"}}`. The answer (200) names the session URI in `Location`.
3. **Send the bytes** in chunks, read one at a time from `MediaFile.path` (a 512 MB video
   is never held in memory): `PUT <session>` with `Content-Range: bytes {first}-{last}/
   {total}`. Every chunk but the last is a multiple of 256 KiB (google-resumable-media
   refuses other sizes, and Google's upload servers refuse a shorter non-final chunk).
   `308` means "more, please": its `Range: bytes=0-{last}` says what the server
   kept (no header: nothing), and the next chunk starts right after it, never where we
   merely think we are. `200`/`201` ends the upload with the video resource (`id`).
4. **Resume.** When a chunk gets no answer (reset, timeout) or a 5xx, the connector asks
   the server what it holds with an empty `PUT` and `Content-Range: bytes */{total}`, and
   goes on from there (at most `max_resumes` times per publish). 404 or 410 on the
   session URI means the session expired: the upload starts over on the next attempt.

Did the video get published? A YouTube video comes into being only when the upload
server has received its **last byte**; neither opening a session nor sending part of
the bytes creates anything anyone can see (an abandoned session simply expires). So:

- anything that fails before the session is open (token refresh, the initiation,
  including an initiation whose answer is lost) is `Transient`: nothing exists yet, and
  trying again opens a fresh session;
- anything that fails while the last byte has not been sent, or after the server said
  (with a 308) that it still lacks bytes, is `Transient` too;
- once the chunk holding the last byte has gone out and its answer is lost (or is a
  5xx), the video may exist. The connector asks the session for its state: a 200/201
  gives the video, a 308 proves it does not exist yet and the upload resumes. If no
  answer settles it, the outcome is `Ambiguous` (a person checks the channel before
  anyone retries), never `Transient`, which would upload the video a second time.

Errors are Google's `{"error": {"code", "message", "errors": [{"reason", "domain",
"message"}]}}`: 403 `quotaExceeded` waits until the quota resets at the next midnight
Pacific time; 403 `rateLimitExceeded`/`userRateLimitExceeded` wait for `Retry-After` or a
minute; 400 `uploadLimitExceeded` waits 24 hours (YouTube's words: "try again in 24
hours"); other 400s (`invalidTitle`, `invalidDescription`, ...) and 403s (`forbidden`,
...) are `Permanent` with Google's message; 5xx are `Transient`.

Tokens, the client secret and the session URI (its `upload_id` lets anyone send bytes)
never appear in this connector's messages or log lines. (httpcore's own DEBUG trace
prints response headers, the session's `Location` included.)

The whole upload runs inside one `publish()` call, so it must fit in the dispatcher's
overall guard around `publish()`; a cancellation there is recorded as unknown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

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
    ObjectiveRef,
    Permanent,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    SaveCredentials,
    Transient,
)
from connectors.check_answers import check_failed, shown_name
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
from connectors.outbound import OutboundPolicy
from connectors.rules import MB, media_problems, refuse, title_problems, within_limits

log = logging.getLogger(__name__)

MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500  # all tags together, commas and the quotes around tags with spaces
API_BASE = "https://www.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
PERMALINK = "https://www.youtube.com/watch?v={}"
UPLOAD_UNIT = 256 * 1024  # chunks (all but the last) are multiples of this
DEFAULT_CHUNK_SIZE = 32 * UPLOAD_UNIT  # 8 MiB
DEFAULT_MAX_RESUMES = 5
PACIFIC = ZoneInfo("America/Los_Angeles")  # YouTube quotas reset at midnight Pacific time
SHORT_RATE_LIMIT_WAIT = timedelta(seconds=60)
UPLOAD_LIMIT_WAIT = timedelta(hours=24)

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
UPLOAD_LIMIT_REASONS = frozenset({"uploadLimitExceeded"})
# Token endpoint errors that no retry fixes: the grant or the OAuth client is gone.
DEAD_GRANT_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})

_RANGE = re.compile(r"bytes=0-(\d+)\s*$", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


class YouTubeConfig(PlatformConfig):
    privacy_status: Literal["private", "unlisted", "public"] = "private"
    category_id: str = "22"
    token_url: HttpUrlStr | None = Field(default=None, json_schema_extra=DESTINATION)


class YouTubeCredentials(PlatformCredentials):
    refresh_token: str
    client_id: str
    client_secret: str
    access_token: str | None = None


# -- pure helpers --------------------------------------------------------------------


def next_pacific_midnight(now: datetime) -> datetime:
    """The next midnight in America/Los_Angeles after `now` (when YouTube quotas reset), in UTC."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)
    return midnight.astimezone(UTC)


def description_for(request: PublishRequest) -> str:
    """The text, with the link on its own paragraph when it is not there and still fits."""
    text = request.text
    link = request.link
    if not link or link in text or any(c in link for c in "<>"):
        return text
    candidate = f"{text.rstrip()}\n\n{link}" if text.strip() else link
    return candidate if len(candidate.encode()) <= MAX_DESCRIPTION_BYTES else text


def tags_for(objectives: tuple[ObjectiveRef, ...]) -> list[str]:
    """Objective names as tags, within YouTube's 500 characters for all tags together
    (counting a comma between tags and the quotes YouTube puts around a tag with spaces)."""
    tags: list[str] = []
    used = 0
    for objective in objectives:
        tag = " ".join(re.sub(r"[<>,]", " ", objective.name).split())
        if not tag or tag in tags:
            continue
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)
        if used + cost > MAX_TAGS_CHARS:
            break
        tags.append(tag)
        used += cost
    return tags


def received_bytes(response: httpx.Response) -> int | None:
    """How many bytes a 308 says the server holds: `Range: bytes=0-{last}` -> last + 1,
    no `Range` -> 0, an unreadable one -> None."""
    value = response.headers.get("range")
    if value is None:
        return 0
    match = _RANGE.match(value.strip())
    return int(match.group(1)) + 1 if match else None


@dataclass
class _UploadState:
    """Where one resumable upload stands."""

    session: str  # the session URI (secret: it lets anyone send bytes)
    total: int
    offset: int = 0  # the first byte the server does not hold, as it last told us
    interruptions: int = 0
    ask: bool = False  # ask the server what it holds before sending more
    final_sent: bool = False  # the last byte went out, and no answer since says it was missing


def _read_range(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


# -- the connector -------------------------------------------------------------------


class YouTubeConnector(Connector):
    """Uploads one video to one YouTube channel (see the module doc for the protocol).

    `chunk_size` (a positive multiple of 256 KiB) and `max_resumes` (how many
    interruptions one publish survives) are tunable for tests and slow links.
    """

    slug = "youtube"
    label = "YouTube"
    short_label = "YouTube"
    audience = "external"
    limits = Limits(
        text=MAX_DESCRIPTION_BYTES,
        text_unit="bytes",
        text_required=False,
        title=100,
        title_required=True,
        media_types={
            t: 256 * 1024 * MB
            for t in ("video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/mpeg")
        },
        single_file="video",
    )
    config: YouTubeConfig
    credentials: YouTubeCredentials
    config_model = YouTubeConfig
    credentials_model = YouTubeCredentials

    @classmethod
    def measure(cls, request: PublishRequest) -> Measure:
        """The description's limit is in bytes of UTF-8, not characters."""
        return Measure(len(request.text.encode()), cls.limits.text, cls.limits.text_unit)

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        problems = within_limits(cls, request)
        if any(c in (request.title or "") for c in "<>"):
            problems.append(Problem("title", "YouTube titles may not contain < or >"))
        if any(c in request.text for c in "<>"):
            problems.append(Problem("text", "YouTube descriptions may not contain < or >"))
        return problems

    def __init__(
        self,
        config: PlatformConfig,
        credentials: PlatformCredentials,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        save_credentials: SaveCredentials | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        max_resumes: int = DEFAULT_MAX_RESUMES,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        if chunk_size <= 0 or chunk_size % UPLOAD_UNIT:
            raise ValueError(f"chunk_size must be a positive multiple of {UPLOAD_UNIT} bytes")
        if max_resumes < 0:
            raise ValueError("max_resumes must not be negative")
        super().__init__(
            config,
            credentials,
            http,
            now=now,
            save_credentials=save_credentials,
            outbound=outbound,
        )
        self.chunk_size = chunk_size
        self.max_resumes = max_resumes
        self._refreshed = False  # the access token is refreshed at most once per use
        self._hidden: list[str] = []  # earlier access tokens, session URIs

    # -- addresses and secrets -------------------------------------------------------

    @property
    def api_base(self) -> str:
        return (self.config.api_base or API_BASE).rstrip("/")

    @property
    def token_url(self) -> str:
        return self.config.token_url or TOKEN_URL

    def secrets(self) -> list[str]:
        c = self.credentials
        found = [c.refresh_token, c.client_secret, *self._hidden]
        if c.access_token:
            found.append(c.access_token)
        return [s for s in found if s]

    def _hide(self, value: str) -> None:
        self._hidden.append(value)
        query = httpx.URL(value).query.decode("ascii", "replace")
        if query:
            self._hidden.append(query)
        match = re.search(r"upload_id=([^&]+)", value)
        if match:
            self._hidden.append(match.group(1))

    def _headers(self, token: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT, **(extra or {})}

    # -- the access token ------------------------------------------------------------

    async def _token(self) -> str:
        return self.credentials.access_token or await self._refresh()

    async def _refresh_through_hook(self, stale: str | None) -> str:
        """Renew through app/connect/tokens.py: the channel rows locked, so two workers
        that found one expired token make one call to Google (single flight)."""
        fresh = await self.refresh_credentials(stale or "")  # type: ignore[misc]
        known = {k: v for k, v in fresh.items() if k in YouTubeCredentials.model_fields}
        self.credentials = YouTubeCredentials.model_validate(known)
        token = self.credentials.access_token
        if not token:
            raise Transient("Google's token endpoint answered without an access token")
        self._hidden.append(token)
        return token

    async def _refresh(self) -> str:
        """A new access token from the refresh token; raises AuthExpired when it is dead."""
        self._refreshed = True
        old = self.credentials.access_token
        if old:
            self._hidden.append(old)
        if self.refresh_credentials is not None:
            return await self._refresh_through_hook(old)
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.credentials.refresh_token,
            "client_id": self.credentials.client_id,
            "client_secret": self.credentials.client_secret,
        }
        try:
            response = await send(
                self.http,
                "POST",
                self.token_url,
                data=form,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                secrets=self.secrets(),
            )
        except Ambiguous as exc:
            # Refreshing a token publishes nothing: trying again is safe.
            raise Transient(f"refreshing the access token: {exc.message}") from None
        body = json_body(response)
        if response.is_success:
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise Transient("Google's token endpoint answered without an access token")
            self._hidden.append(token)
            try:
                await self.save_credentials({"access_token": token})
            except Exception as exc:  # keep going with the token in hand
                log.warning(
                    "could not store the refreshed YouTube access token (%s)", type(exc).__name__
                )
            return token
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str):
            described = body.get("error_description") if isinstance(body, dict) else None
            detail = f"{error}: {described}" if isinstance(described, str) and described else error
            detail = excerpt(redact(detail, self.secrets()))
            if error in DEAD_GRANT_ERRORS:
                raise AuthExpired(
                    f"Google refused to renew the YouTube access token ({detail}): "
                    "the channel needs reconnecting"
                )
            check_common_status(
                response, platform="Google's token endpoint", now=self.now(), secrets=self.secrets()
            )
            raise Permanent(
                f"Google's token endpoint answered HTTP {response.status_code} ({detail})",
                code=error,
            )
        check_common_status(
            response, platform="Google's token endpoint", now=self.now(), secrets=self.secrets()
        )
        raise Permanent(
            self._status_text("Google's token endpoint", response),
            code=f"http_{response.status_code}",
        )

    # -- publishing ------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(media_problems(type(self), request.media), code="media")
        refuse(title_problems(type(self), request.title), code="title")
        video = request.media[0]
        title = (request.title or "").strip()
        try:
            total = video.path.stat().st_size
        except OSError:
            raise Permanent(
                f"{video.filename}: the media file cannot be read", code="media_missing"
            ) from None
        if total == 0:
            raise Permanent(f"{video.filename}: the media file is empty", code="media_empty")
        metadata = {
            "snippet": {
                "title": title,
                "description": description_for(request),
                "tags": tags_for(request.objectives),
                "categoryId": self.config.category_id,
            },
            "status": {"privacyStatus": self.config.privacy_status},
        }
        session = await self._initiate(metadata, video, total)
        return await self._upload(session, video, total)

    async def _initiate(self, metadata: dict[str, Any], video: MediaFile, total: int) -> str:
        """Open a resumable session; its URI. Every failure here is Transient or definite:
        no video exists until its last byte arrives."""
        url = f"{self.api_base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"
        body = json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        while True:
            token = await self._token()
            headers = self._headers(
                token,
                {
                    "Content-Type": "application/json; charset=UTF-8",
                    "X-Upload-Content-Length": str(total),
                    "X-Upload-Content-Type": video.content_type,
                },
            )
            try:
                response = await send(
                    self.http, "POST", url, content=body, headers=headers, secrets=self.secrets()
                )
            except Ambiguous as exc:
                raise Transient(
                    f"{exc.message}; the upload session was not confirmed, and no video exists "
                    "before its bytes are sent, so nothing was published"
                ) from None
            if response.status_code == 401 and not self._refreshed:
                await self._refresh()
                continue
            if response.status_code in (200, 201):
                location = response.headers.get("location")
                if not location:
                    raise Transient(
                        "YouTube opened no upload session (no Location in its answer); "
                        "nothing was published"
                    )
                session = str(response.url.join(location))
                self._hide(session)
                return session
            raise self._api_error(response)

    async def _upload(self, session: str, video: MediaFile, total: int) -> PublishResult:
        state = _UploadState(session, total)
        while True:
            content, headers, sends_last = await self._next_piece(state, video)
            try:
                response = await self._put(state.session, content, headers)
            except (Transient, Ambiguous) as exc:
                # Transient: no connection, this request never left. Ambiguous: it left and
                # its answer was lost, so the server may hold more than it last said.
                if sends_last and isinstance(exc, Ambiguous):
                    state.final_sent = True
                self._count_interruption(state, exc.message)
                log.info(
                    "YouTube upload interrupted at byte %d of %d; asking where it stands",
                    state.offset,
                    total,
                )
                state.ask = True
                continue
            if sends_last:
                state.final_sent = True  # until an answer says bytes are missing
            result = await self._settle(state, response)
            if result is not None:
                return result

    async def _next_piece(
        self, state: _UploadState, video: MediaFile
    ) -> tuple[bytes, dict[str, str], bool]:
        """What to PUT next: an empty status query, or the next chunk read from disk;
        and whether it holds the last byte."""
        if state.ask:
            return b"", {"Content-Range": f"bytes */{state.total}"}, False
        want = min(self.chunk_size, state.total - state.offset)
        try:
            content = await asyncio.to_thread(_read_range, video.path, state.offset, want)
        except OSError:
            content = b""
        if len(content) != want:
            raise self._unsure(
                Permanent(
                    f"{video.filename}: the media file changed or became unreadable "
                    "during the upload",
                    code="media_changed",
                ),
                state.final_sent,
            )
        last = state.offset + want - 1
        headers = {
            "Content-Range": f"bytes {state.offset}-{last}/{state.total}",
            "Content-Type": video.content_type,
        }
        return content, headers, last == state.total - 1

    async def _settle(self, state: _UploadState, response: httpx.Response) -> PublishResult | None:
        """The upload's result once the server has the video; None to go on."""
        status = response.status_code
        if status in (200, 201):
            return self._result(response)
        if status == 308:
            self._resume_from(state, response)
            return None
        if status in (404, 410):
            raise self._unsure(
                Transient(
                    f"YouTube's upload session expired (HTTP {status}); nothing was "
                    "published, the next attempt starts the upload over"
                ),
                state.final_sent,
            )
        if status == 401 and not self._refreshed:
            try:
                await self._refresh()
            except PublishError as exc:
                raise self._unsure(exc, state.final_sent) from None
            state.ask = True
            return None
        if status >= 500:
            self._count_interruption(state, self._status_text(self.short_label, response))
            state.ask = True
            return None
        raise self._unsure(self._api_error(response), state.final_sent)

    def _resume_from(self, state: _UploadState, response: httpx.Response) -> None:
        """Go on from the byte a 308 says the server lacks (at the URI it names, if any)."""
        held = received_bytes(response)
        if held is None or held > state.total:
            raise self._unsure(
                Transient(
                    f"YouTube answered 308 with an unreadable Range "
                    f"({excerpt(response.headers.get('range', ''))}); nothing was published"
                ),
                state.final_sent,
            )
        if not state.ask and held <= state.offset:
            # A chunk that moved nothing forward: count it, so this cannot loop.
            self._count_interruption(
                state, f"YouTube kept none of the chunk at byte {state.offset}"
            )
        state.offset = held
        state.final_sent = False  # the server says bytes are missing: no video yet
        state.ask = False
        moved = response.headers.get("location")
        if moved:
            state.session = str(response.url.join(moved))
            self._hide(state.session)

    def _count_interruption(self, state: _UploadState, problem: str) -> None:
        """One more interruption; past `max_resumes`, give up."""
        state.interruptions += 1
        if state.interruptions > self.max_resumes:
            # Not chained: the cause's text may hold the session URI.
            raise self._gave_up(problem, state.interruptions, state.final_sent) from None

    async def _put(self, session: str, content: bytes, headers: dict[str, str]) -> httpx.Response:
        token = await self._token()
        return await send(
            self.http,
            "PUT",
            session,
            content=content,
            headers=self._headers(token, headers),
            secrets=self.secrets(),
        )

    @staticmethod
    def _result(response: httpx.Response) -> PublishResult:
        body = json_body(response)
        video_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(video_id, str) or not video_id:
            # The upload finished (2xx), so the video exists; we cannot tell its id.
            return PublishResult()
        return PublishResult(external_id=video_id, permalink=PERMALINK.format(video_id))

    def _gave_up(self, problem: str, interruptions: int, final_sent: bool) -> PublishError:
        if final_sent:
            return Ambiguous(
                f"YouTube did not confirm the end of the upload ({problem}); every byte was "
                "sent, so the video may exist: check the channel before retrying"
            )
        return Transient(
            f"the upload was interrupted {interruptions} times ({problem}); YouTube never "
            "received its last bytes, so nothing was published"
        )

    @staticmethod
    def _unsure(error: PublishError, final_sent: bool) -> PublishError:
        """`error`, unless the last byte went out earlier without a clear answer: then the
        video may exist whatever this later answer says."""
        if not final_sent or isinstance(error, Ambiguous):
            return error
        return Ambiguous(
            f"{error.message}; but the last bytes had been sent without a clear answer, so "
            "the video may exist: check the channel before retrying"
        )

    # -- answers ---------------------------------------------------------------------

    def _status_text(self, who: str, response: httpx.Response) -> str:
        detail = body_excerpt(response, secrets=self.secrets())
        head = f"{who} answered HTTP {response.status_code}"
        return f"{head}: {detail}" if detail else head

    def _api_error(self, response: httpx.Response) -> PublishError:
        """The error kind of a Data API error answer (see the module doc)."""
        status = response.status_code
        body = json_body(response)
        error = body.get("error") if isinstance(body, dict) else None
        message = ""
        reasons: list[str] = []
        if isinstance(error, dict):
            if isinstance(error.get("message"), str):
                message = error["message"]
            for item in error.get("errors") or []:
                if isinstance(item, dict) and isinstance(item.get("reason"), str):
                    reasons.append(item["reason"])
                    if not message and isinstance(item.get("message"), str):
                        message = item["message"]
        if not message:
            return self._plain_error(response)
        message = excerpt(redact(_TAG.sub("", message), self.secrets()))
        reason = reasons[0] if reasons else None
        text = f"YouTube answered HTTP {status}: {message}" + (f" ({reason})" if reason else "")
        now = self.now()
        found = set(reasons)
        if found & QUOTA_REASONS:
            return RateLimited(
                f"{text}; the daily quota resets at midnight Pacific time",
                next_pacific_midnight(now),
            )
        if found & RATE_LIMIT_REASONS or status == 429:
            return RateLimited(
                text, retry_after(response.headers, now=now) or now + SHORT_RATE_LIMIT_WAIT
            )
        if found & UPLOAD_LIMIT_REASONS:
            return RateLimited(
                f"{text}; YouTube says to try again in 24 hours", now + UPLOAD_LIMIT_WAIT
            )
        if status == 401:
            return AuthExpired(
                f"{text}; the access token was refused even after a refresh: "
                "the channel needs reconnecting"
            )
        if status >= 500:
            return Transient(text)
        return Permanent(text, code=reason or f"http_{status}")

    def _plain_error(self, response: httpx.Response) -> PublishError:
        if response.status_code == 429:
            now = self.now()
            return RateLimited(
                self._status_text(self.short_label, response),
                retry_after(response.headers, now=now) or now + SHORT_RATE_LIMIT_WAIT,
            )
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )
        return Permanent(
            self._status_text(self.short_label, response), code=f"http_{response.status_code}"
        )

    # -- checking --------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """`channels.list(part=id,snippet, mine=true)`: the channel the token belongs to."""
        url = f"{self.api_base}/youtube/v3/channels?part=id,snippet&mine=true"
        try:
            while True:
                token = await self._token()
                response = await send(
                    self.http,
                    "GET",
                    url,
                    headers=self._headers(token, {"Accept": "application/json"}),
                    secrets=self.secrets(),
                )
                if response.status_code == 401 and not self._refreshed:
                    await self._refresh()
                    continue
                break
            if not response.is_success:
                raise self._api_error(response)
        except PublishError as exc:
            # A refusal marks the channel needs_reconnect (credentials_refused).
            return check_failed(exc, label=self.short_label, host=httpx.URL(url).host)
        body = json_body(response)
        items = body.get("items") if isinstance(body, dict) else None
        channel = items[0] if isinstance(items, list) and items else None
        if not isinstance(channel, dict):
            return CheckResult(
                ok=False, detail="this Google account has no YouTube channel to upload to"
            )
        snippet = channel.get("snippet")
        title = snippet.get("title") if isinstance(snippet, dict) else None
        title = shown_name(title) if isinstance(title, str) else ""
        account = {"id": channel.get("id"), "title": title}
        return CheckResult(
            ok=True,
            detail=f"connected to the YouTube channel {title or shown_name(channel.get('id'))}",
            account=account,
        )
