"""A fake Google for one YouTube channel: OAuth token endpoint, resumable video upload,
`channels.list`. A real HTTP server on 127.0.0.1 (tests.fakes.sinks.SinkServer's life
cycle and recording, with its own request handler).

What it serves, with Google's shapes:

- `POST /token` (form `grant_type=refresh_token`, `refresh_token`, `client_id`,
  `client_secret`) -> `{"access_token", "expires_in": 3599, "scope", "token_type":
  "Bearer"}`. Unknown client: 401 `{"error": "invalid_client"}`; wrong secret: 401
  `invalid_client`; a dead or unknown refresh token: 400 `{"error": "invalid_grant",
  "error_description": "Token has been expired or revoked."}`.
- `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`: checks the
  bearer token (401 `authError` / `required`), `uploadType`, `part`, the JSON content
  type, `X-Upload-Content-Length` (Google allows it to be absent; this fake requires
  it), `X-Upload-Content-Type` (`video/*` or `application/octet-stream`), and the
  snippet as videos.insert does: title present, at most 100 characters, no `<` or `>`
  (400 `invalidTitle`); description at most 5000 bytes, no `<`/`>` (400
  `invalidDescription`); tags at most 500 characters together (400 `invalidTags`); a
  known `categoryId` (400 `invalidCategoryId`); a valid `privacyStatus`. Answers 200
  with the session URI (`...&upload_id=...`) in `Location`.
- `PUT <session URI>` with `Content-Range: bytes {first}-{last}/{total}`: the upload
  protocol of Google's upload servers. A chunk may overlap what the server holds (the
  overlap is ignored) but may not start past it (400 "...exceeds already uploaded
  size..."); every chunk but the last must carry at least 256 KiB, and only whole
  256 KiB units of it are kept. More wanted: 308 with `Range: bytes=0-{last kept}` (no
  `Range` while nothing is kept). The last byte: 201 (or `completion_status`; Google's
  client libraries accept 200 and 201) with the video resource
  `{"kind": "youtube#video", "id", "snippet", "status"}`. `Content-Range: bytes
  */{total}` with an empty body asks for the state: 308 as above, or 200 with the video
  once complete. An unknown or expired session: 404 (or 410, see `expire_sessions`).
  The session URI is the credential here (as on Google's upload servers): a PUT's
  bearer token is not checked.
- `GET /youtube/v3/channels?part=id,snippet&mine=true` -> `youtube#channelListResponse`.

Errors are Google's `{"error": {"code", "message", "errors": [{"message", "domain",
"reason"}]}}` (`google_error(reason)`); the wording of quotaExceeded,
uploadLimitExceeded, forbidden, invalid_grant and invalid_client is what Google writes
(found in its reference and in public client code); the other messages are close to it.

What a test can make it do:

- `answer_next(answer, endpoint=...)`: the next request (to "token", "initiate",
  "chunk", "status", "channels", or any) gets this answer before any check, e.g.
  `google_error("quotaExceeded")`, `hang(5)`, `drop()` from tests.fakes.sinks;
- `drop_chunk(n)`: the n-th chunk PUT (counting from 1 over the fake's life) is cut
  midway: the server reads part of it (`cut_after` bytes, default half), keeps the whole
  256 KiB units that arrived (all of it, completing the video, if the last byte did),
  and closes the connection without answering; `fail_chunk(n, status=503)` answers a 5xx
  (`backendError`) instead; `keep=` limits what the server keeps of that chunk;
- `stall_on_completion("hang" | "drop")`: the next upload completes (the video exists),
  but its answer and every later answer about that session are lost;
- `expire_sessions()`, `expire_at_chunk(n)`, `expire_access_token(token)`,
  `kill_refresh_token()`.

What it holds: `videos` (each with the assembled bytes), `sessions`, `issued` (access
tokens it handed out), every request in `requests`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from tests.fakes.forms import Form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.sinks import (
    Answer,
    RecordedRequest,
    SinkBacked,
    SinkServer,
    drop,
    hang,
    json_answer,
)

CLIENT_ID = "481516234200-cadence0kitchen.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-CadenceClientSecret7Qm2Zx"
REFRESH_TOKEN = "1//0gCadenceRefreshTokenXk93LqPw"
ACCESS_TOKEN = "ya29.a0CadenceAccessTokenPz71VbNe"
CHANNEL_ID = "UCcadenceKitchen0123456A"
CHANNEL_TITLE = "Cadence Community Kitchen"
SCOPE = "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly"

TOKEN_PATH = "/token"
AUTHORIZE_PATH = "/o/oauth2/v2/auth"  # on accounts.google.com
UPLOAD_PATH = "/upload/youtube/v3/videos"
CHANNELS_PATH = "/youtube/v3/channels"
VIDEOS_PATH = "/youtube/v3/videos"
MAX_LIST_IDS = 50
UNIT = 256 * 1024
MAX_TITLE = 100
MAX_DESCRIPTION_BYTES = 5000
MAX_TAGS_CHARS = 500
CATEGORIES = frozenset(
    {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
)
PRIVACY = frozenset({"private", "unlisted", "public"})
VIDEO_PARTS = frozenset(
    {
        "snippet",
        "status",
        "contentDetails",
        "fileDetails",
        "player",
        "processingDetails",
        "recordingDetails",
        "statistics",
        "suggestions",
        "topicDetails",
        "localizations",
        "id",
    }
)
CHANNEL_PARTS = frozenset(
    {
        "id",
        "snippet",
        "contentDetails",
        "statistics",
        "status",
        "brandingSettings",
        "topicDetails",
        "localizations",
        "auditDetails",
        "contentOwnerDetails",
    }
)

# reason -> (HTTP status, domain, message)
ERRORS: dict[str, tuple[int, str, str]] = {
    "quotaExceeded": (
        403,
        "youtube.quota",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
        'getting-started#quota">quota</a>.',
    ),
    "rateLimitExceeded": (403, "usageLimits", "Rate Limit Exceeded"),
    "userRateLimitExceeded": (403, "usageLimits", "User Rate Limit Exceeded"),
    "uploadLimitExceeded": (
        400,
        "youtube.video",
        "The user has exceeded the number of videos they may upload.",
    ),
    "invalidTitle": (
        400,
        "youtube.video",
        "The request metadata specifies an invalid or empty video title.",
    ),
    "invalidDescription": (
        400,
        "youtube.video",
        "The request metadata specifies an invalid video description.",
    ),
    "invalidTags": (400, "youtube.video", "The request metadata specifies invalid video keywords."),
    "invalidCategoryId": (
        400,
        "youtube.video",
        "The snippet.categoryId property specifies an invalid category ID.",
    ),
    "invalidVideoMetadata": (400, "youtube.video", "The request metadata is invalid."),
    "mediaBodyRequired": (400, "youtube.video", "The request does not include the video content."),
    "badContent": (400, "global", "Unsupported content"),
    "required": (400, "global", "Required parameter"),
    "parseError": (400, "global", "Parse Error"),
    "forbidden": (
        403,
        "youtube.video",
        "Access forbidden. The request may not be properly authorized.",
    ),
    "forbiddenPrivacySetting": (
        403,
        "youtube.video",
        "The privacy setting of the video is not supported for this channel.",
    ),
    "authenticatedUserAccountSuspended": (
        403,
        "youtube.common",
        "The YouTube account of the authenticated user is suspended.",
    ),
    "notFound": (404, "global", "Not Found"),
    "internalError": (500, "global", "Internal Error"),
    "backendError": (503, "global", "Backend Error"),
}
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
MISSING_CREDENTIAL = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
JSON_TYPE = "application/json; charset=UTF-8"

_DATA_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")
_QUERY_RANGE = re.compile(r"bytes \*/(\d+|\*)")


# -- answers -------------------------------------------------------------------------


def google_error(
    reason: str,
    message: str | None = None,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Google's error answer for `reason` (its usual status, domain and message)."""
    known_status, domain, known_message = ERRORS.get(reason, (400, "global", reason))
    text = message or known_message
    code = status or known_status
    return json_answer(
        code,
        {
            "error": {
                "code": code,
                "message": text,
                "errors": [{"message": text, "domain": domain, "reason": reason}],
            }
        },
        {"Content-Type": JSON_TYPE, **(headers or {})},
    )


def unauthenticated(missing: bool = False) -> Answer:
    """401 for a missing or refused bearer token, with Google's WWW-Authenticate."""
    reason, message, short = (
        ("required", MISSING_CREDENTIAL, "Login Required.")
        if missing
        else ("authError", UNAUTHENTICATED, "Invalid Credentials")
    )
    error = {
        "code": 401,
        "message": message,
        "errors": [
            {
                "message": short,
                "domain": "global",
                "reason": reason,
                "location": "Authorization",
                "locationType": "header",
            }
        ],
        "status": "UNAUTHENTICATED",
    }
    challenge = 'Bearer realm="https://accounts.google.com/"'
    if not missing:
        challenge += ', error="invalid_token"'
    return json_answer(
        401, {"error": error}, {"Content-Type": JSON_TYPE, "WWW-Authenticate": challenge}
    )


def oauth_error(error: str, description: str, status: int = 400) -> Answer:
    """The token endpoint's error: `{"error", "error_description"}`."""
    return json_answer(
        status,
        {"error": error, "error_description": description},
        {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
    )


def upload_error(text: str, status: int = 400) -> Answer:
    """The upload server's own protocol errors are plain text."""
    return Answer(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


# -- what the channel holds -----------------------------------------------------------


@dataclass
class Fault:
    """What goes wrong with one chunk PUT."""

    drop: bool = False  # cut the connection midway through the body
    status: int | None = None  # answer this 5xx instead
    keep: int | None = None  # bytes of this chunk the server keeps (whole 256 KiB units)
    cut_after: int | None = None  # for drop: bytes read before cutting (default: half)
    expire: int | None = None  # the session expires just before this chunk (404 or 410)


@dataclass
class Session:
    id: str
    total: int
    content_type: str
    parts: tuple[str, ...]
    snippet: dict[str, Any]
    status: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video: dict[str, Any] | None = None
    expired: int | None = None  # 404 or 410 once expired
    stalled: Answer | None = None  # every answer about this session is lost


@dataclass
class Video:
    id: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    content_type: str
    data: bytes
    resource: dict[str, Any]


# -- the server ----------------------------------------------------------------------


class _Server(SinkServer):
    """SinkServer's life cycle and recording, with a handler that can cut a body midway."""

    def __init__(self, fake: FakeYouTube) -> None:
        super().__init__()
        self.fake = fake

    def _record(self, request: web.BaseRequest, body: bytes) -> RecordedRequest:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._arrived:
            self.requests.append(recorded)
            self._arrived.notify_all()
        return recorded

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        fault = self.fake._chunk_fault(request.method, request.path, request.headers)
        if fault is not None and fault.drop:
            length = int(request.headers.get("Content-Length") or 0)
            cut = fault.cut_after if fault.cut_after is not None else length // 2
            partial = bytearray()
            while len(partial) < cut:
                piece = await request.content.read(cut - len(partial))
                if not piece:
                    break
                partial += piece
            recorded = self._record(request, bytes(partial))
            self.fake._cut(recorded, fault)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more to say on a closed connection
        body = await request.read()
        recorded = self._record(request, body)
        answer = self.fake._answer(recorded, fault)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return web.Response(status=answer.status, body=answer.body, headers=dict(answer.headers))


class FakeYouTube(SinkBacked):
    def __init__(
        self,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        refresh_token: str = REFRESH_TOKEN,
        access_token: str | None = ACCESS_TOKEN,
        has_channel: bool = True,
        completion_status: int = 201,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.refresh_dead = False
        self.access_tokens: set[str] = {access_token} if access_token else set()
        self.issued: list[str] = []
        self.has_channel = has_channel
        self.completion_status = completion_status  # 201 Created (200 also seen in the wild)
        self.sessions: dict[str, Session] = {}
        self.videos: list[Video] = []
        self.chunk_puts = 0
        self.sink = _Server(self)
        self._faults: dict[int, Fault] = {}
        self._scripted: dict[str | None, deque[Answer]] = {}
        self._stall: Answer | None = None
        self._video_numbers = itertools.count(1)
        self._next_video = 1
        self._lock = threading.RLock()
        # Google's consent page (accounts.google.com) and the code exchange, with PKCE.
        self.authorization = AuthorizationServer(
            clients={client_id: client_secret},
            authorize_path=AUTHORIZE_PATH,
            name="Google",
            pkce=True,
            code_prefix="4/0Adeu5B",
        )
        # videos.list: statistics by video id (ids here exist even if not uploaded
        # through the fake); deleted videos are left out of `items`, as YouTube does.
        self.statistics: dict[str, dict[str, str]] = {}
        self.deleted: set[str] = set()
        # videos.list calls answered before the daily quota runs out (403 quotaExceeded).
        self.list_quota: int | None = None
        self.list_calls = 0

    # -- life ------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return self.sink.url + TOKEN_PATH

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """Recorded requests of one kind: token, initiate, chunk, status, channels."""
        return [
            r for r in list(self.requests) if _endpoint(r.method, r.path, r.headers) == endpoint
        ]

    # -- telling it what to do -------------------------------------------------------

    def answer_next(self, *answers: Answer, endpoint: str | None = None) -> None:
        """The next requests (to `endpoint`, or to any) get these answers before any check."""
        with self._lock:
            self._scripted.setdefault(endpoint, deque()).extend(answers)

    def drop_chunk(self, n: int, *, cut_after: int | None = None, keep: int | None = None) -> None:
        """Cut the n-th chunk PUT (from 1) midway, without answering."""
        with self._lock:
            self._faults[n] = Fault(drop=True, cut_after=cut_after, keep=keep)

    def fail_chunk(self, n: int, status: int = 503, *, keep: int = 0) -> None:
        """Answer the n-th chunk PUT with a 5xx (`backendError`), keeping `keep` bytes of it."""
        with self._lock:
            self._faults[n] = Fault(status=status, keep=keep)

    def expire_at_chunk(self, n: int, status: int = 404) -> None:
        """The session expires just before the n-th chunk PUT arrives."""
        with self._lock:
            self._faults[n] = Fault(expire=status)

    def short_keep(self, n: int, keep: int) -> None:
        """Keep only `keep` bytes (whole 256 KiB units) of the n-th chunk; answer normally."""
        with self._lock:
            self._faults[n] = Fault(keep=keep)

    def stall_on_completion(self, how: str = "hang", seconds: float = 5.0) -> None:
        """The next upload completes (the video exists), but its answer is lost ("hang":
        no answer for `seconds`; "drop": the connection closes), and so is every later
        answer about that session."""
        with self._lock:
            self._stall = hang(seconds) if how == "hang" else drop()

    def expire_sessions(self, status: int = 404) -> None:
        """Every open session expires: its URI answers `status` (404 or 410)."""
        with self._lock:
            for session in self.sessions.values():
                if session.video is None:
                    session.expired = status

    def expire_access_token(self, token: str = ACCESS_TOKEN) -> None:
        with self._lock:
            self.access_tokens.discard(token)

    def kill_refresh_token(self) -> None:
        """The user removed the app's access: the refresh token and its access tokens die."""
        with self._lock:
            self.refresh_dead = True
            self.access_tokens.clear()

    def upcoming_video_id(self) -> str:
        return _video_id(self._next_video)

    @property
    def upload_ids(self) -> list[str]:
        return list(self.sessions)

    # -- serving ---------------------------------------------------------------------

    def _chunk_fault(self, method: str, path: str, headers: Any) -> Fault | None:
        """Count chunk PUTs (on arrival, before the body) and take the fault for this one."""
        if _endpoint(method, path, {"content-range": headers.get("Content-Range", "")}) != "chunk":
            return None
        with self._lock:
            self.chunk_puts += 1
            return self._faults.pop(self.chunk_puts, None)

    def _answer(self, recorded: RecordedRequest, fault: Fault | None) -> Answer:
        if self.authorization.handles(recorded):
            return self.authorization.handle(recorded)
        endpoint = _endpoint(recorded.method, recorded.path, recorded.headers)
        with self._lock:
            for key in (endpoint, None):
                queue = self._scripted.get(key)
                if queue:
                    return queue.popleft()
            if endpoint == "token":
                return self._token(recorded)
            if endpoint == "initiate":
                return self._initiate(recorded)
            if endpoint in ("chunk", "status"):
                return self._put(recorded, fault)
            if endpoint == "channels":
                return self._channels(recorded)
            if endpoint == "videos":
                return self._videos_list(recorded)
            return google_error("notFound")

    def _token(self, recorded: RecordedRequest) -> Answer:
        if not (recorded.header("content-type") or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return oauth_error("invalid_request", "Bad Request")
        form = {k: v[0] for k, v in parse_qs(recorded.body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._code(form)
        if grant != "refresh_token":
            return oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant or ''}")
        if form.get("client_id") != self.client_id:
            return oauth_error("invalid_client", "The OAuth client was not found.", 401)
        if form.get("client_secret") != self.client_secret:
            return oauth_error("invalid_client", "Unauthorized", 401)
        if not form.get("refresh_token"):
            return oauth_error("invalid_request", "Missing required parameter: refresh_token")
        if form["refresh_token"] != self.refresh_token or self.refresh_dead:
            return oauth_error("invalid_grant", "Token has been expired or revoked.")
        token = f"ya29.a0Fake{len(self.issued) + 1:03d}{secrets.token_urlsafe(24)}"
        self.issued.append(token)
        self.access_tokens.add(token)
        return json_answer(
            200,
            {"access_token": token, "expires_in": 3599, "scope": SCOPE, "token_type": "Bearer"},
            {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
        )

    def _code(self, form: dict[str, str]) -> Answer:
        """Google's code exchange: client credentials in the form, PKCE verifier; the
        refresh token only comes with `access_type=offline` (and, on a second consent,
        only with `prompt=consent`)."""
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return oauth_error("invalid_client", "Unauthorized", 401)
        grant = self.authorization.redeem(Form(fields=list(form.items())), self.client_id)
        if isinstance(grant, Refusal):
            return oauth_error("invalid_grant", "Bad Request")
        query = self.authorization.authorizations[-1] if self.authorization.authorizations else {}
        token = f"ya29.a0Fake{len(self.issued) + 1:03d}{secrets.token_urlsafe(24)}"
        self.issued.append(token)
        self.access_tokens.add(token)
        answer = {
            "access_token": token,
            "expires_in": 3599,
            "scope": grant.scope,
            "token_type": "Bearer",
        }
        if query.get("access_type") == "offline" and query.get("prompt") == "consent":
            answer["refresh_token"] = self.refresh_token
        return json_answer(
            200,
            answer,
            {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
        )

    def _auth(self, recorded: RecordedRequest) -> Answer | None:
        header = recorded.header("authorization")
        if not header:
            return unauthenticated(missing=True)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.access_tokens:
            return unauthenticated()
        return None

    def _initiate(self, recorded: RecordedRequest) -> Answer:
        refused = self._auth(recorded)
        if refused is not None:
            return refused
        query = parse_qs(recorded.query)
        if query.get("uploadType", [""])[0] != "resumable":
            return google_error("badRequest", "This fake only speaks uploadType=resumable")
        parts = tuple(p for p in ",".join(query.get("part", [])).split(",") if p)
        if not parts:
            return google_error("required", "Required parameter: part")
        unknown = [p for p in parts if p not in VIDEO_PARTS]
        if unknown:
            return google_error("unknownPart", unknown[0])
        content_type = recorded.header("content-type") or ""
        if not content_type.startswith("application/json"):
            return google_error("badContent", f"Unsupported content with type: {content_type}")
        length = recorded.header("x-upload-content-length")
        if length is None or not length.isdigit():
            return google_error("required", "X-Upload-Content-Length: the size of the video")
        media_type = recorded.header("x-upload-content-type") or ""
        if not (media_type.startswith("video/") or media_type == "application/octet-stream"):
            return google_error(
                "badContent",
                f"Media type '{media_type}' is not supported. Valid media types: "
                "[video/*, application/octet-stream]",
            )
        try:
            resource = json.loads(recorded.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return google_error("parseError")
        if not isinstance(resource, dict):
            return google_error("parseError")
        snippet: dict[str, Any] = resource.get("snippet") or {}
        status: dict[str, Any] = resource.get("status") or {}
        if not isinstance(snippet, dict) or not isinstance(status, dict):
            return google_error("invalidVideoMetadata")
        problem = _check_snippet(snippet) or _check_status(status)
        if problem is not None:
            return problem
        session = Session(
            id=secrets.token_urlsafe(32),
            total=int(length),
            content_type=media_type,
            parts=parts,
            snippet=snippet,
            status=status,
        )
        self.sessions[session.id] = session
        location = (
            f"{self.url}{UPLOAD_PATH}?uploadType=resumable&part={','.join(parts)}"
            f"&upload_id={session.id}"
        )
        return Answer(
            200,
            b"",
            {
                "Location": location,
                "X-GUploader-UploadID": session.id,
                "Content-Type": "text/html; charset=UTF-8",
            },
        )

    def _put(self, recorded: RecordedRequest, fault: Fault | None) -> Answer:
        upload_id = parse_qs(recorded.query).get("upload_id", [""])[0]
        session = self.sessions.get(upload_id)
        if session is None:
            return google_error("notFound")
        if session.stalled is not None:
            return session.stalled
        if fault is not None and fault.expire is not None and session.video is None:
            session.expired = fault.expire
        if session.expired is not None:
            return upload_error("Not Found" if session.expired == 404 else "Gone", session.expired)
        header = recorded.header("content-range")
        if header is None and len(recorded.body) == session.total:
            header = f"bytes 0-{session.total - 1}/{session.total}"  # the whole file at once
        if header is None:
            return upload_error("Failed to parse Content-Range header.")
        query = _QUERY_RANGE.fullmatch(header.strip())
        if query is not None:
            if recorded.body:
                return upload_error("A status query must have an empty body.")
            if query.group(1) != "*" and int(query.group(1)) != session.total:
                return upload_error("The Content-Range total does not match the upload's size.")
            return self._state(session)
        data = _DATA_RANGE.fullmatch(header.strip())
        if data is None:
            return upload_error("Failed to parse Content-Range header.")
        if session.video is not None:
            return self._state(session)
        first, last = int(data.group(1)), int(data.group(2))
        if data.group(3) != "*" and int(data.group(3)) != session.total:
            return upload_error("The Content-Range total does not match the upload's size.")
        if last < first or last >= session.total:
            return upload_error("Failed to parse Content-Range header.")
        if len(recorded.body) != last - first + 1:
            return upload_error(
                f"Invalid request. The Content-Range header names {last - first + 1} bytes "
                f"but the request carried {len(recorded.body)}."
            )
        held = len(session.data)
        if first > held:
            return upload_error(
                "Invalid request. According to the Content-Range header, the upload offset is "
                f"{first} byte(s), which exceeds already uploaded size of {held} byte(s)."
            )
        final = last == session.total - 1
        if not final and len(recorded.body) < UNIT:
            return upload_error(
                f"Invalid request. The number of bytes uploaded is required to be equal or "
                f"greater than {UNIT}, except for the final request (it's recommended to be the "
                f"exact multiple of {UNIT}). The received request contained "
                f"{len(recorded.body)} bytes, which does not meet this requirement."
            )
        end = first + len(recorded.body)
        if fault is not None and fault.keep is not None:
            end = min(end, first + fault.keep)
            final = final and end == session.total
        if not final:
            end = (end // UNIT) * UNIT  # only whole 256 KiB units of a partial upload stay
        if end > held:
            session.data += recorded.body[held - first : end - first]
        if fault is not None and fault.status is not None:
            return google_error("backendError", status=fault.status)
        if len(session.data) == session.total:
            self._complete(session)
            if self._stall is not None:
                session.stalled, self._stall = self._stall, None
                return session.stalled
            return self._video_answer(session, self.completion_status)
        return self._incomplete(session)

    def _cut(self, recorded: RecordedRequest, fault: Fault) -> None:
        """A chunk whose connection was cut: keep the whole 256 KiB units that arrived."""
        with self._lock:
            session = self.sessions.get(parse_qs(recorded.query).get("upload_id", [""])[0])
            match = _DATA_RANGE.fullmatch((recorded.header("content-range") or "").strip())
            if session is None or match is None or session.video is not None:
                return
            first = int(match.group(1))
            held = len(session.data)
            arrived = recorded.body if fault.keep is None else recorded.body[: fault.keep]
            end = first + len(arrived)
            if end < session.total:
                end = (end // UNIT) * UNIT  # only whole 256 KiB units of a partial upload stay
            if first <= held < end:
                session.data += arrived[held - first : end - first]
            if len(session.data) == session.total:
                self._complete(session)  # every byte arrived: the video exists, unanswered

    def _state(self, session: Session) -> Answer:
        if session.video is not None:
            return self._video_answer(session, 200)
        return self._incomplete(session)

    @staticmethod
    def _incomplete(session: Session) -> Answer:
        headers = {"Content-Type": "text/plain; charset=utf-8", "X-GUploader-UploadID": session.id}
        if session.data:
            headers["Range"] = f"bytes=0-{len(session.data) - 1}"
        return Answer(308, b"", headers)

    def _complete(self, session: Session) -> None:
        number = next(self._video_numbers)
        self._next_video = number + 1
        video_id = _video_id(number)
        snippet = {
            "publishedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channelId": CHANNEL_ID,
            "title": session.snippet.get("title", ""),
            "description": session.snippet.get("description", ""),
            "thumbnails": {
                "default": {
                    "url": f"https://i.ytimg.com/vi/{video_id}/default.jpg",
                    "width": 120,
                    "height": 90,
                }
            },
            "channelTitle": CHANNEL_TITLE,
            "tags": list(session.snippet.get("tags") or []),
            "categoryId": session.snippet.get("categoryId", "22"),
            "liveBroadcastContent": "none",
            "localized": {
                "title": session.snippet.get("title", ""),
                "description": session.snippet.get("description", ""),
            },
        }
        if not snippet["tags"]:
            del snippet["tags"]
        status = {
            "uploadStatus": "uploaded",
            "privacyStatus": session.status.get("privacyStatus", "public"),
            "license": "youtube",
            "embeddable": True,
            "publicStatsViewable": True,
        }
        resource: dict[str, Any] = {
            "kind": "youtube#video",
            "etag": secrets.token_urlsafe(20),
            "id": video_id,
        }
        if "snippet" in session.parts:
            resource["snippet"] = snippet
        if "status" in session.parts:
            resource["status"] = status
        session.video = resource
        self.videos.append(
            Video(
                id=video_id,
                snippet=snippet,
                status=status,
                content_type=session.content_type,
                data=bytes(session.data),
                resource=resource,
            )
        )

    @staticmethod
    def _video_answer(session: Session, status: int) -> Answer:
        return json_answer(status, session.video, {"Content-Type": JSON_TYPE})

    def _videos_list(self, recorded: RecordedRequest) -> Answer:
        """`GET /youtube/v3/videos?part=statistics&id=a,b`: up to 50 ids; statistics are
        decimal strings; unknown or deleted videos are simply absent."""
        refused = self._auth(recorded)
        if refused is not None:
            return refused
        self.list_calls += 1
        if self.list_quota is not None and self.list_calls > self.list_quota:
            return google_error("quotaExceeded")
        query = parse_qs(recorded.query)
        parts = [p for p in ",".join(query.get("part", [])).split(",") if p]
        if not parts:
            return google_error("required", "Required parameter: part")
        ids = [i for i in ",".join(query.get("id", [])).split(",") if i]
        if len(ids) > MAX_LIST_IDS:
            return google_error(
                "invalidFilters", "The request specifies more than 50 video ids", status=400
            )
        known = {v.id for v in self.videos} | set(self.statistics)
        items = []
        for ident in ids:
            if ident not in known or ident in self.deleted:
                continue
            item: dict[str, Any] = {"kind": "youtube#video", "etag": f"etag-{ident}", "id": ident}
            if "statistics" in parts:
                item["statistics"] = self.statistics.get(
                    ident,
                    {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"},
                )
            items.append(item)
        return json_answer(
            200,
            {
                "kind": "youtube#videoListResponse",
                "etag": "cadence-videos-etag",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            },
            {"Content-Type": JSON_TYPE},
        )

    def _channels(self, recorded: RecordedRequest) -> Answer:
        refused = self._auth(recorded)
        if refused is not None:
            return refused
        query = parse_qs(recorded.query)
        parts = [p for p in ",".join(query.get("part", [])).split(",") if p]
        if not parts:
            return google_error("required", "Required parameter: part")
        unknown = [p for p in parts if p not in CHANNEL_PARTS]
        if unknown:
            return google_error("unknownPart", unknown[0])
        if query.get("mine", [""])[0] != "true":
            return google_error(
                "missingRequiredParameter",
                "No filter selected. Expected one of: forUsername, managedByMe, categoryId, "
                "mine, mySubscribers, id, idParam",
            )
        items: list[dict[str, Any]] = []
        if self.has_channel:
            channel: dict[str, Any] = {
                "kind": "youtube#channel",
                "etag": "cadence-channel-etag",
                "id": CHANNEL_ID,
            }
            if "snippet" in parts:
                channel["snippet"] = {
                    "title": CHANNEL_TITLE,
                    "description": "Meals, volunteers and news from the kitchen.",
                    "customUrl": "@cadencekitchen",
                    "publishedAt": "2019-04-02T10:00:00Z",
                    "localized": {"title": CHANNEL_TITLE, "description": ""},
                }
            items.append(channel)
        return json_answer(
            200,
            {
                "kind": "youtube#channelListResponse",
                "etag": "cadence-list-etag",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            },
            {"Content-Type": JSON_TYPE},
        )


# -- helpers -------------------------------------------------------------------------


def _endpoint(method: str, path: str, headers: Any) -> str | None:
    if path == TOKEN_PATH and method == "POST":
        return "token"
    if path == UPLOAD_PATH and method == "POST":
        return "initiate"
    if path == UPLOAD_PATH and method == "PUT":
        content_range = (headers.get("content-range") or "").strip()
        return "status" if content_range.startswith("bytes */") else "chunk"
    if path == CHANNELS_PATH and method == "GET":
        return "channels"
    if path == VIDEOS_PATH and method == "GET":
        return "videos"
    return None


def _video_id(number: int) -> str:
    return f"Cdnc{number:07d}"  # 11 characters, like YouTube's


def _check_snippet(snippet: dict[str, Any]) -> Answer | None:
    title = snippet.get("title")
    if (
        not isinstance(title, str)
        or not title.strip()
        or len(title) > MAX_TITLE
        or any(c in title for c in "<>")
    ):
        return google_error("invalidTitle")
    description = snippet.get("description", "")
    if (
        not isinstance(description, str)
        or len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES
        or any(c in description for c in "<>")
    ):
        return google_error("invalidDescription")
    tags = snippet.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return google_error("invalidTags")
    length = sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)
    if length > MAX_TAGS_CHARS or any(c in t for t in tags for c in "<>"):
        return google_error("invalidTags")
    category = snippet.get("categoryId")
    if category is not None and category not in CATEGORIES:
        return google_error("invalidCategoryId")
    return None


def _check_status(status: dict[str, Any]) -> Answer | None:
    privacy = status.get("privacyStatus")
    if privacy is not None and privacy not in PRIVACY:
        return google_error("invalidVideoMetadata", f"Invalid value for privacyStatus: {privacy}")
    return None
