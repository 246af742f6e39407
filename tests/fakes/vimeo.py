"""A fake Vimeo API with its tus upload server, on 127.0.0.1.

- `POST /me/videos` (bearer token, JSON): `upload.approach` must be `tus` with a
  `size`; `name` at most 128 characters; `privacy.view` one of Vimeo's values -> 200
  with the video (`uri`, `link`, `upload: {approach, upload_link, size}`). Errors are
  Vimeo's `{"error", "link", "developer_message", "error_code"}`: 401 (8003, an
  unknown or revoked token), 403 (8003 without the upload scope, 4102 quota), 400
  (2204, invalid parameters).
- `PATCH /tus/files/<id>` (`Tus-Resumable: 1.0.0`, `Upload-Offset` equal to what the
  server holds, else 409; `Content-Type: application/offset+octet-stream`, else 415)
  -> 204 with the new `Upload-Offset`. `HEAD` the same -> 200 with `Upload-Offset`
  and `Upload-Length`. `drop_chunk(n)`: the n-th PATCH is read in full, kept, and the
  connection is closed without an answer (a resume must HEAD and go on).
- `GET /me` -> the user.
- `GET /videos/{id}` (bearer token; `fields` honoured for the few it knows) -> the
  video with `stats.plays` and `metadata.connections.likes.total` /
  `comments.total` from `stats` (zeros for a video this fake made); unknown or
  deleted: 404 (error_code 5000). `rate_limit_read = n`: the n-th read answers 429.
- The Connect flow (developer.vimeo.com/api/authentication): `GET /oauth/authorize`
  is the consent page (tests.fakes.oauth, no PKCE); `POST /oauth/access_token` with
  the client id and secret as HTTP Basic redeems a code -> `{"access_token",
  "token_type": "bearer", "scope", "user"}`; the token does not expire.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.forms import read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.scripted import Handler, ScriptedFake
from tests.fakes.sinks import Answer, RecordedRequest, drop, json_answer, text_answer

TOKEN = "vimeo-Access-Token-7e3b1d9c2a"
NO_UPLOAD_TOKEN = "vimeo-Public-Only-Token-0f0f"
USER_ID = "214748364"
FIRST_VIDEO = 1_040_000_001
CLIENT_ID = "4f1cadence0vimeo"
CLIENT_SECRET = "vimeo-client-secret-b7e2"
PRIVACY = frozenset({"anybody", "unlisted", "nobody", "disable", "contacts", "password"})


def vimeo_error(
    status: int, code: int, error: str, headers: dict[str, str] | None = None
) -> Answer:
    body = {"error": error, "link": None, "developer_message": error, "error_code": code}
    return json_answer(status, body, headers)


def too_many(retry_after: str | None = None, reset: str | None = None) -> Answer:
    headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
    if reset:
        headers["X-RateLimit-Reset"] = reset
    if retry_after:
        headers["Retry-After"] = retry_after
    return vimeo_error(429, 9000, "You have made too many requests.", headers)


def unavailable() -> Answer:
    return text_answer(503, "Service Unavailable")


@dataclass
class Video:
    id: str
    params: dict[str, Any]
    size: int
    data: bytearray = field(default_factory=bytearray)

    @property
    def link(self) -> str:
        return f"https://vimeo.com/{self.id}"

    @property
    def complete(self) -> bool:
        return len(self.data) == self.size


@dataclass
class FakeVimeo(ScriptedFake):
    tokens: dict[str, str] = field(
        default_factory=lambda: {TOKEN: "public private upload", NO_UPLOAD_TOKEN: "public"}
    )
    videos: dict[str, Video] = field(default_factory=dict)
    dropped_chunks: set[int] = field(default_factory=set)
    # video id -> {"plays": n, "likes": n, "comments": n}
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    video_reads: int = 0
    rate_limit_read: int | None = None
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})

    def __post_init__(self) -> None:
        self.authorization = AuthorizationServer(
            clients=self.clients, authorize_path="/oauth/authorize", name="Vimeo", pkce=False
        )
        super().__post_init__()
        self._next = FIRST_VIDEO
        self._patches = 0

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        return {
            ("POST", "/me/videos"): ("create", self._create),
            ("PATCH", r"/tus/files/(\d+)"): ("patch", self._patch),
            ("HEAD", r"/tus/files/(\d+)"): ("head", self._head),
            ("GET", "/me"): ("me", self._me),
            ("GET", r"/videos/(\d+)"): ("video", self._video),
            ("GET", "/oauth/authorize"): ("authorize", self._authorize),
            ("POST", "/oauth/authorize/decide"): ("authorize", self._authorize),
            ("POST", "/oauth/access_token"): ("token", self._token),
        }

    def not_found(self, request: RecordedRequest) -> Answer:
        return vimeo_error(404, 5000, "The requested page couldn't be found.")

    def revoke(self, token: str = TOKEN) -> None:
        self.tokens.pop(token, None)

    def drop_chunk(self, n: int) -> None:
        self.dropped_chunks.add(n)

    def next_video_id(self) -> str:
        return str(self._next)

    # -- serving -------------------------------------------------------------------------

    def _scope(self, request: RecordedRequest) -> str | None:
        token = self.bearer(request)
        return self.tokens.get(token) if token else None

    def _create(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        scope = self._scope(request)
        if scope is None:
            return vimeo_error(401, 8003, "You must provide a valid authenticated access token.")
        if "upload" not in scope.split():
            return vimeo_error(403, 8003, 'Your access token does not have the "upload" scope.')
        body = request.json()
        upload = body.get("upload") or {}
        size = str(upload.get("size", ""))
        if upload.get("approach") != "tus" or not size.isdigit():
            return vimeo_error(
                400,
                2204,
                "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.",
            )
        if (
            len(body.get("name", "")) > 128
            or (body.get("privacy") or {}).get("view", "anybody") not in PRIVACY
        ):
            return vimeo_error(
                400,
                2204,
                "The parameters passed to this API endpoint didn't pass Vimeo's validation checks.",
            )
        with self._lock:
            video = Video(str(self._next), body, int(size))
            self._next += 1
            self.videos[video.id] = video
        return json_answer(
            200,
            {
                "uri": f"/videos/{video.id}",
                "name": body.get("name"),
                "link": video.link,
                "upload": {
                    "status": "in_progress",
                    "approach": "tus",
                    "upload_link": f"{self.url}/tus/files/{video.id}",
                    "size": int(size),
                },
            },
        )

    def _tus_problem(self, request: RecordedRequest, video_id: str) -> Answer | None:
        if video_id not in self.videos:
            return text_answer(404, "Not Found")
        if request.header("tus-resumable") != "1.0.0":
            return text_answer(412, "Precondition Failed", {"Tus-Version": "1.0.0"})
        return None

    def _patch(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        video_id = match.group(1)
        problem = self._tus_problem(request, video_id)
        if problem:
            return problem
        if request.header("content-type") != "application/offset+octet-stream":
            return text_answer(415, "Unsupported Media Type")
        video = self.videos[video_id]
        with self._lock:
            self._patches += 1
            if request.header("upload-offset") != str(len(video.data)):
                return text_answer(409, "Conflict", {"Tus-Resumable": "1.0.0"})
            video.data += request.body[: video.size - len(video.data)]
            if self._patches in self.dropped_chunks:
                return drop()
        return Answer(204, b"", {"Tus-Resumable": "1.0.0", "Upload-Offset": str(len(video.data))})

    def _head(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        video_id = match.group(1)
        problem = self._tus_problem(request, video_id)
        if problem:
            return problem
        video = self.videos[video_id]
        headers = {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(len(video.data)),
            "Upload-Length": str(video.size),
            "Cache-Control": "no-store",
        }
        return Answer(200, b"", headers)

    def _video(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        if self._scope(request) is None:
            return vimeo_error(401, 8003, "You must provide a valid authenticated access token.")
        ident = match.group(1)
        with self._lock:
            self.video_reads += 1
            if self.video_reads == self.rate_limit_read:
                return too_many(retry_after="90")
            made = ident in self.videos
            figures = self.stats.get(ident)
        if figures is None and not made:
            return vimeo_error(404, 5000, "The requested video couldn't be found.")
        figures = figures or {}
        return json_answer(
            200,
            {
                "uri": f"/videos/{ident}",
                "link": f"https://vimeo.com/{ident}",
                "stats": {"plays": figures.get("plays", 0)},
                "metadata": {
                    "connections": {
                        "likes": {
                            "uri": f"/videos/{ident}/likes",
                            "total": figures.get("likes", 0),
                        },
                        "comments": {
                            "uri": f"/videos/{ident}/comments",
                            "total": figures.get("comments", 0),
                        },
                    }
                },
            },
        )

    def _me(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        if self._scope(request) is None:
            return vimeo_error(401, 8003, "You must provide a valid authenticated access token.")
        return json_answer(
            200,
            {
                "uri": f"/users/{USER_ID}",
                "name": "Community Kitchen",
                "link": f"https://vimeo.com/user{USER_ID}",
            },
        )

    def _authorize(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        return self.authorization.handle(request)

    def _token(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        scheme, _, encoded = (request.header("authorization") or "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client_id, secret = "", ""
        if scheme.lower() != "basic" or self.clients.get(client_id) != secret:
            return json_answer(
                401, {"error": "invalid_client", "error_description": "Invalid client"}
            )
        form = read_form(request)
        if form.get("grant_type") != "authorization_code":
            return json_answer(400, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self.authorization.redeem(form, client_id)
            if isinstance(grant, Refusal):
                return json_answer(
                    400, {"error": "invalid_grant", "error_description": grant.description}
                )
            token = f"vimeo-connected-{len(self.tokens) + 1}"
            self.tokens[token] = grant.scope
        return json_answer(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "scope": grant.scope,
                "user": {"uri": f"/users/{USER_ID}", "name": "Community Kitchen"},
            },
        )
