"""A fake X (Twitter) for one account: v2 posts and `users/me`, v1.1 media upload, and
the OAuth 2 token refresh.

A real HTTP server on 127.0.0.1 (tests.fakes.sinks.SinkServer) that, like X:

- authenticates every API call. OAuth 1.0a: the `Authorization: OAuth ...` header must
  name a known consumer key and a live access token, HMAC-SHA1, a timestamp within
  five minutes and a nonce never seen before, and carry the HMAC-SHA1 signature that
  oauthlib's own functions (`oauthlib.oauth1.rfc5849.signature`) compute over the
  method, the **original** X URL (`https://api.twitter.com` + path, or
  `https://upload.twitter.com` + path for media: the host a client signs, whoever
  forwards the request) and the parameters: the query, the OAuth header's, and the
  body's only when it is form-encoded (a JSON or multipart body is not signed). A
  refusal is X's: v2 `401 {"title": "Unauthorized", "type": "about:blank", "status":
  401, "detail": "Unauthorized"}`, v1.1 `401 {"errors": [{"code": 32, "message":
  "Could not authenticate you."}]}`. OAuth 2: `Authorization: Bearer <token>`, checked
  by value (v2 only; v1.1 media upload refuses OAuth 2 with 403, code 220);
- `POST /2/tweets` (JSON `{"text", "media": {"media_ids": [...]}, "reply":
  {"in_reply_to_tweet_id"}}`; a reply to a post that does not exist is refused with
  403 "You attempted to reply to a Tweet that is deleted or not visible to you."): text or media
  required, text at most 280 weighted characters (twitter-text, as the connector
  counts), media ids this account uploaded and X has finished processing (at most 4).
  The same text a second time is refused with X's duplicate answer (403). Success:
  `201 {"data": {"id", "text", "edit_history_tweet_ids"}}`;
- `GET /2/users/me`: `{"data": {"id", "name", "username"}}`;
- v2 answers carry `x-rate-limit-limit/-remaining/-reset` (a 15-minute window per
  endpoint, limits settable); a spent window answers 429 with `remaining: 0`;
- `POST /1.1/media/upload.json`: a multipart `media` file (simple upload, images:
  `{"media_id", "media_id_string", "media_key", "size", "expires_after_secs",
  "image": {...}}`), or `command=INIT|APPEND|FINALIZE` and `GET ...?command=STATUS`
  (chunked upload; FINALIZE with a `media_category` answers `processing_info`
  `pending`, and STATUS moves it to `succeeded`, or `failed` with `fail_processing`);
- `POST /2/oauth2/token` (`grant_type=refresh_token`, HTTP Basic client credentials):
  a new access token and a new refresh token (the old refresh token dies), or
  `400 {"error": "invalid_request", ...}`.

The OAuth 1.0a keys are the example credentials of X's "Creating a signature"
documentation, so the signature check can be proven against X's published example
(`verify_oauth1`). A test scripts answers with `answer_next(..., path=...)`; posts
land in `tweets`, files in `media`, every request in `requests`, and every refused
authentication's reason in `auth_failures`.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from base64 import b64decode
from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

from oauthlib.oauth1.rfc5849 import signature, utils
from twitter_text import parse_tweet

from tests.fakes.forms import Form, FormError, image_kind, is_mp4, read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.sinks import Answer, RecordedRequest, SinkBacked, SinkServer, json_answer

# X's documented example credentials ("Creating a signature").
CONSUMER_KEY = "xvz1evFS4wEEPTGEFPHBog"
CONSUMER_SECRET = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
ACCESS_TOKEN = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"
ACCESS_TOKEN_SECRET = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
# OAuth 2 (authorization code with PKCE, confidential client).
CLIENT_ID = "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ"
CLIENT_SECRET = "zX8vQ2kT7mNw4pLr9sYc3bHd6fJg1aKe5uVi0oWq-cadence"
OAUTH2_TOKEN = "bWRWa3gzdnk3WFdWc2l6Y2hTYWF2SUhkc1MxZkVsMnJ1ZnRmZkdJOjE2NjA2ODM5MjUwMDY6MToxOmF0OjE"
REFRESH_TOKEN = "cmVmcmVzaC10b2tlbi1jYWRlbmNlLWNvbW1zLTAwMTpydDox"

USER_ID = "1501234567890123456"
USERNAME = "cadence_comms"
NAME = "Cadence Comms"

API_HOST = "https://api.twitter.com"
UPLOAD_HOST = "https://upload.twitter.com"
TWEETS_PATH = "/2/tweets"
ME_PATH = "/2/users/me"
UPLOAD_PATH = "/1.1/media/upload.json"
TOKEN_PATH = "/2/oauth2/token"
AUTHORIZE_PATH = "/i/oauth2/authorize"  # on x.com
V2_UPLOAD_PATH = "/2/media/upload"  # OAuth 2 user tokens (scope media.write)

MAX_WEIGHTED_LENGTH = 280
TIMESTAMP_WINDOW = 300  # seconds either way
WINDOW_SECONDS = 15 * 60
IMAGE_LIMIT = 5 * 1024 * 1024
CHUNK_LIMIT = 5 * 1024 * 1024
VIDEO_TYPES = {"video/mp4", "video/quicktime"}
CATEGORIES = {"tweet_image", "tweet_gif", "tweet_video", "amplify_video"}

DUPLICATE_DETAIL = "You are not allowed to create a Tweet with duplicate content."
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text "
    "length see https://github.com/twitter/twitter-text."
)
INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
ZERO_METRICS = {
    "retweet_count": 0,
    "reply_count": 0,
    "like_count": 0,
    "quote_count": 0,
    "bookmark_count": 0,
    "impression_count": 0,
}


# -- X's answers ---------------------------------------------------------------------


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Answer:
    """A v2 error: an RFC 7807 problem `{"title", "detail", "type", "status"}`."""
    return json_answer(status, {"title": title, "detail": detail, "type": type_, "status": status})


def invalid_request(message: str, parameters: dict[str, list[str]] | None = None) -> Answer:
    """A v2 400: the problem plus `errors` naming what is wrong."""
    error: dict[str, Any] = {"message": message}
    if parameters:
        error = {"parameters": parameters, **error}
    return json_answer(
        400,
        {
            "errors": [error],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID_REQUEST,
        },
    )


def unauthorized() -> Answer:
    return problem(401, "Unauthorized", "Unauthorized")


# X's answer to a reply whose post does not exist (deleted, or never there).
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."


def duplicate() -> Answer:
    return problem(403, "Forbidden", DUPLICATE_DETAIL)


def forbidden(detail: str) -> Answer:
    return problem(403, "Forbidden", detail)


def text_too_long() -> Answer:
    return invalid_request(TOO_LONG)


def server_error(status: int = 503) -> Answer:
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
    title = titles.get(status, "Service Unavailable")
    return problem(status, title, title)


def rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-remaining": str(remaining),
        "x-rate-limit-reset": str(reset),
    }


def too_many_requests(
    reset: int,
    *,
    limit: int = 100,
    remaining: int = 0,
    user_24h: tuple[int, int, int] | None = None,
) -> Answer:
    """X's 429: the problem body, the window's headers and, when given, the 24-hour user
    quota's `(limit, remaining, reset)` headers."""
    headers = rate_headers(limit, remaining, reset)
    if user_24h is not None:
        day_limit, day_remaining, day_reset = user_24h
        headers |= {
            "x-user-limit-24hour-limit": str(day_limit),
            "x-user-limit-24hour-remaining": str(day_remaining),
            "x-user-limit-24hour-reset": str(day_reset),
        }
    return json_answer(
        429,
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers,
    )


def v1_error(status: int, code: int, message: str) -> Answer:
    """A v1.1 error: `{"errors": [{"code", "message"}]}`."""
    return json_answer(status, {"errors": [{"code": code, "message": message}]})


def upload_error(message: str, status: int = 400) -> Answer:
    """The media upload service's own error shape."""
    return json_answer(status, {"request": UPLOAD_PATH, "error": message})


def oauth2_error(status: int, error: str, description: str) -> Answer:
    return json_answer(status, {"error": error, "error_description": description})


# -- OAuth 1.0a ----------------------------------------------------------------------


def original_url(path: str) -> str:
    """The URL a client signed: X's own host for the path."""
    host = UPLOAD_HOST if path.startswith("/1.1/media/") else API_HOST
    return host + path


def oauth_parameters(authorization: str) -> dict[str, str]:
    return {k: utils.unescape(v) for k, v in utils.parse_authorization_header(authorization)}


def verify_oauth1(
    method: str,
    uri: str,
    query: str,
    body_fields: list[tuple[str, str]],
    authorization: str,
    consumer_secret: str,
    token_secret: str,
) -> bool:
    """Is the header's HMAC-SHA1 signature the one oauthlib computes for this request?"""
    oauth = oauth_parameters(authorization)
    params = signature.collect_parameters(
        uri_query=query,
        body=body_fields,
        headers={"Authorization": authorization},
        exclude_oauth_signature=True,
    )
    request = SimpleNamespace(
        http_method=method, uri=uri, params=params, signature=oauth.get("oauth_signature", "")
    )
    return bool(signature.verify_hmac_sha1(request, consumer_secret, token_secret))


# -- what the fake holds --------------------------------------------------------------


@dataclass
class Tweet:
    id: str
    text: str | None
    media_ids: list[str]
    auth: str  # "oauth1" or "oauth2"
    in_reply_to: str | None = None  # a thread's part: the post it answers


@dataclass
class Media:
    id: str
    media_type: str | None  # INIT's media_type; None for a simple upload
    category: str | None
    total_bytes: int
    filename: str | None = None
    data: bytes = b""
    segments: dict[int, bytes] = field(default_factory=dict)
    state: str = "uploading"  # uploading, pending, in_progress, succeeded, failed
    polls: int = 0
    chunked: bool = False

    @property
    def ready(self) -> bool:
        return self.state == "succeeded"


class FakeX(SinkBacked):
    def __init__(
        self,
        *,
        consumer_key: str = CONSUMER_KEY,
        consumer_secret: str = CONSUMER_SECRET,
        access_token: str = ACCESS_TOKEN,
        access_token_secret: str = ACCESS_TOKEN_SECRET,
        bearer_token: str = OAUTH2_TOKEN,
        refresh_token: str = REFRESH_TOKEN,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        username: str = USERNAME,
        limits: dict[str, int] | None = None,
    ) -> None:
        self.consumers = {consumer_key: consumer_secret}
        self.tokens = {access_token: access_token_secret}
        self.bearer_tokens = {bearer_token}
        self.refresh_tokens = {refresh_token}
        self.clients = {client_id: client_secret}
        self.username = username
        self.limits = {TWEETS_PATH: 200, ME_PATH: 75, **(limits or {})}
        self.processing_polls = 1  # STATUS calls before a video is processed
        self.fail_processing = False
        self.sink = SinkServer()
        self.tweets: list[Tweet] = []
        self.media: dict[str, Media] = {}
        self.issued: list[tuple[str, str]] = []  # (access, refresh) handed out by refreshes
        self.auth_failures: list[str] = []
        self.signatures_checked = 0
        self._windows: dict[str, tuple[int, int]] = {}  # path -> (reset, used)
        self._nonces: set[tuple[str, str]] = set()
        self._tweet_ids = itertools.count(1_861_234_567_890_123_457)
        self._next_tweet = 1_861_234_567_890_123_457
        self._media_ids = itertools.count(1_860_000_000_000_000_001)
        self._token_serial = itertools.count(2)
        self._scripted: dict[str | None, deque[Answer]] = {}
        self._lock = threading.Lock()
        # The authorization-code flow with PKCE (x.com's consent page, the code exchange).
        self.authorization = AuthorizationServer(
            clients=self.clients, authorize_path=AUTHORIZE_PATH, name="X", pkce=True
        )
        # Tweets lookup: public_metrics by tweet id (ids here exist even if not posted
        # through the fake); deleted ids answer X's "Not Found Error" in `errors`.
        self.public_metrics: dict[str, dict[str, int]] = {}
        self.deleted: set[str] = set()
        self.sink.answer_with(self._handle)

    # -- life ------------------------------------------------------------------------

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return self.sink.requests_to(path)

    # -- telling it what to do ---------------------------------------------------------

    def answer_next(self, *answers: Answer, path: str | None = None) -> None:
        """Answer the next requests (to `path`, or to any path) with these, in order,
        before any check."""
        with self._lock:
            self._scripted.setdefault(path, deque()).extend(answers)

    def revoke(self, token: str = ACCESS_TOKEN) -> None:
        """The account revoked the app: the OAuth 1.0a or OAuth 2 access token is refused."""
        self.tokens.pop(token, None)
        self.bearer_tokens.discard(token)

    def revoke_refresh(self, token: str = REFRESH_TOKEN) -> None:
        self.refresh_tokens.discard(token)

    def upcoming_tweet_id(self) -> str:
        return str(self._next_tweet)

    def reset_at(self, path: str = TWEETS_PATH) -> int:
        """The epoch second the endpoint's current rate-limit window ends."""
        return self._window(path)[0]

    # -- serving ---------------------------------------------------------------------

    def _handle(self, recorded: RecordedRequest) -> Answer:
        with self._lock:
            for key in (recorded.path, None):
                queue = self._scripted.get(key)
                if queue:
                    return queue.popleft()
        if self.authorization.handles(recorded):
            return self.authorization.handle(recorded)
        if recorded.path == TOKEN_PATH and recorded.method == "POST":
            return self._token(recorded)
        if recorded.path == UPLOAD_PATH:
            return self._upload_endpoint(recorded)
        if recorded.path.startswith(V2_UPLOAD_PATH):
            return self._upload_v2(recorded)
        route = {
            ("POST", TWEETS_PATH): self._create_tweet,
            ("GET", ME_PATH): self._me,
            ("GET", TWEETS_PATH): self._lookup_tweets,
        }.get((recorded.method, recorded.path))
        if route is None:
            return problem(404, "Not Found Error", f"Could not find {recorded.path}")
        refusal, auth = self._authenticate(recorded, [], v1=False)
        if refusal is not None:
            return refusal
        limited, headers = self._count(recorded.path)
        if limited is not None:
            return limited
        answer = route(recorded, auth)
        return Answer(answer.status, answer.body, {**answer.headers, **headers})

    # -- authentication ----------------------------------------------------------------

    def _authenticate(
        self, recorded: RecordedRequest, body_fields: list[tuple[str, str]], *, v1: bool
    ) -> tuple[Answer | None, str]:
        header = recorded.header("authorization") or ""
        if header.startswith("Bearer "):
            if v1:
                self.auth_failures.append("oauth2_on_v1")
                return v1_error(
                    403, 220, "Your credentials do not allow access to this resource."
                ), ""
            if header[len("Bearer ") :].strip() not in self.bearer_tokens:
                self.auth_failures.append("bearer_unknown")
                return unauthorized(), ""
            return None, "oauth2"
        if header.startswith("OAuth "):
            reason = self._check_oauth1(recorded, header, body_fields)
            if reason is None:
                return None, "oauth1"
            self.auth_failures.append(reason)
        else:
            self.auth_failures.append("no_credentials")
            if v1:
                return v1_error(400, 215, "Bad Authentication data."), ""
        if v1:
            return v1_error(401, 32, "Could not authenticate you."), ""
        return unauthorized(), ""

    def _check_oauth1(
        self, recorded: RecordedRequest, header: str, body_fields: list[tuple[str, str]]
    ) -> str | None:
        """None when the OAuth 1.0a header is good, else why not."""
        try:
            oauth = oauth_parameters(header)
        except (ValueError, IndexError):
            return "header_unreadable"
        required = (
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature_method",
            "oauth_signature",
            "oauth_timestamp",
            "oauth_nonce",
        )
        if any(not oauth.get(name) for name in required):
            return "parameter_absent"
        if oauth["oauth_signature_method"] != "HMAC-SHA1":
            return "signature_method_rejected"
        consumer_secret = self.consumers.get(oauth["oauth_consumer_key"])
        if consumer_secret is None:
            return "consumer_key_unknown"
        token_secret = self.tokens.get(oauth["oauth_token"])
        if token_secret is None:
            return "token_rejected"
        try:
            stamp = int(oauth["oauth_timestamp"])
        except ValueError:
            return "timestamp_refused"
        if abs(stamp - time.time()) > TIMESTAMP_WINDOW:
            return "timestamp_refused"
        nonce = (oauth["oauth_timestamp"], oauth["oauth_nonce"])
        if nonce in self._nonces:
            return "nonce_used"
        self.signatures_checked += 1
        if not verify_oauth1(
            recorded.method,
            original_url(recorded.path),
            recorded.query,
            body_fields,
            header,
            consumer_secret,
            token_secret,
        ):
            return "signature_invalid"
        self._nonces.add(nonce)
        return None

    # -- rate limits -----------------------------------------------------------------

    def _window(self, path: str) -> tuple[int, int]:
        now = int(time.time())
        reset, used = self._windows.get(path, (0, 0))
        if reset <= now:
            reset, used = now + WINDOW_SECONDS, 0
            self._windows[path] = (reset, used)
        return reset, used

    def _count(self, path: str) -> tuple[Answer | None, dict[str, str]]:
        limit = self.limits.get(path, 100)
        with self._lock:
            reset, used = self._window(path)
            if used >= limit:
                return too_many_requests(reset, limit=limit), {}
            used += 1
            self._windows[path] = (reset, used)
        return None, rate_headers(limit, limit - used, reset)

    # -- v2 --------------------------------------------------------------------------

    def _create_tweet(self, recorded: RecordedRequest, auth: str) -> Answer:
        try:
            body = json.loads(recorded.body or b"null")
        except ValueError:
            return problem(
                400, "Invalid Request", "Request body is not valid JSON.", INVALID_REQUEST
            )
        if not isinstance(body, dict):
            return problem(
                400, "Invalid Request", "Request body is not a JSON object.", INVALID_REQUEST
            )
        text = body.get("text")
        if text is not None and not isinstance(text, str):
            return invalid_request("$.text: expected a string")
        media = body.get("media") or {}
        media_ids = media.get("media_ids") if isinstance(media, dict) else None
        media_ids = media_ids or []
        if not isinstance(media_ids, list) or not all(isinstance(m, str) for m in media_ids):
            return invalid_request("$.media.media_ids: expected a list of strings")
        if not (text or "").strip() and not media_ids:
            return invalid_request("Tweet text or media is required.", {"text": [text or ""]})
        if text and parse_tweet(text).weightedLength > MAX_WEIGHTED_LENGTH:
            return text_too_long()
        reply = body.get("reply")
        to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if reply is not None and not isinstance(to, str):
            return invalid_request("$.reply.in_reply_to_tweet_id: expected a string")
        with self._lock:
            if to is not None and not any(t.id == to for t in self.tweets):
                return forbidden(REPLY_GONE)
            known = [self.media.get(m) for m in media_ids]
            if len(media_ids) > 4 or any(m is None or not m.ready for m in known):
                return invalid_request(
                    "Your media IDs are invalid.", {"media.media_ids": list(media_ids)}
                )
            if text and any(t.text == text for t in self.tweets):
                return duplicate()
            tweet = Tweet(str(next(self._tweet_ids)), text, list(media_ids), auth, to)
            self._next_tweet = int(tweet.id) + 1
            self.tweets.append(tweet)
        data = {"edit_history_tweet_ids": [tweet.id], "id": tweet.id, "text": text or ""}
        return json_answer(201, {"data": data})

    def _lookup_tweets(self, recorded: RecordedRequest, auth: str) -> Answer:
        """`GET /2/tweets?ids=1,2&tweet.fields=public_metrics`: X's Tweets lookup, 1 to
        100 ids; ids it cannot show come back in `errors`, the call still 200."""
        query = dict(parse_qsl(recorded.query))
        ids = [i for i in query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return invalid_request(
                "The `ids` query parameter value [...] is not between 1 and 100",
                {"ids": [query.get("ids", "")]},
            )
        fields = query.get("tweet.fields", "").split(",")
        known = {t.id: t.text for t in self.tweets} | dict.fromkeys(self.public_metrics, "")
        data, errors = [], []
        for ident in ids:
            if ident in known and ident not in self.deleted:
                item: dict[str, Any] = {
                    "id": ident,
                    "text": known[ident] or "",
                    "edit_history_tweet_ids": [ident],
                }
                if "public_metrics" in fields:
                    item["public_metrics"] = {**ZERO_METRICS, **self.public_metrics.get(ident, {})}
                data.append(item)
            else:
                errors.append(
                    {
                        "value": ident,
                        "detail": f"Could not find tweet with ids: [{ident}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": ident,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                )
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return json_answer(200, body)

    def _me(self, recorded: RecordedRequest, auth: str) -> Answer:
        return json_answer(200, {"data": {"id": USER_ID, "name": NAME, "username": self.username}})

    # -- v1.1 media upload -----------------------------------------------------------

    def _upload_endpoint(self, recorded: RecordedRequest) -> Answer:
        try:
            form = read_form(recorded)
        except FormError:
            return upload_error("Bad request body.")
        # Form-encoded bodies are signed; multipart bodies are not.
        signed_body = [] if form.multipart else form.body_fields
        refusal, _auth = self._authenticate(recorded, signed_body, v1=True)
        if refusal is not None:
            return refusal
        command = form.get("command")
        if recorded.method == "GET":
            if command != "STATUS":
                return v1_error(400, 214, "Bad request.")
            return self._status(form)
        if command is None:
            return self._simple(form)
        handler = {"INIT": self._init, "APPEND": self._append, "FINALIZE": self._finalize}.get(
            command
        )
        if handler is None:
            return upload_error(f"Invalid command: {command}.")
        return handler(form)

    def _new_media_id(self) -> str:
        return str(next(self._media_ids))

    def _simple(self, form: Form) -> Answer:
        upload = form.file("media")
        if upload is None:
            return v1_error(400, 38, "media parameter is missing.")
        kind = image_kind(upload.data)
        if kind not in ("png", "jpeg", "gif", "webp"):
            return upload_error("media type unrecognized.")
        if len(upload.data) > IMAGE_LIMIT:
            return upload_error("File size exceeds 5242880 bytes.")
        media_id = self._new_media_id()
        item = Media(
            media_id,
            None,
            form.get("media_category"),
            len(upload.data),
            upload.filename,
            upload.data,
            state="succeeded",
        )
        with self._lock:
            self.media[media_id] = item
        width, height = _image_size(upload.data)
        answer = {
            **self._media_json(item),
            "size": len(upload.data),
            "image": {"image_type": f"image/{kind}", "w": width, "h": height},
        }
        return json_answer(200, answer)

    def _media_json(self, item: Media) -> dict[str, Any]:
        prefix = (
            "7" if item.media_type in VIDEO_TYPES else "16" if item.category == "tweet_gif" else "3"
        )
        return {
            "media_id": int(item.id),
            "media_id_string": item.id,
            "media_key": f"{prefix}_{item.id}",
            "expires_after_secs": 86400,
        }

    def _init(self, form: Form) -> Answer:
        media_type = form.get("media_type")
        total = form.get("total_bytes")
        category = form.get("media_category")
        if not media_type or not total or not total.isdigit():
            return v1_error(400, 214, "Bad request.")
        if category is not None and category not in CATEGORIES:
            return upload_error(f"Invalid media_category: {category}.")
        media_id = self._new_media_id()
        item = Media(media_id, media_type, category, int(total), chunked=True)
        with self._lock:
            self.media[media_id] = item
        return json_answer(202, self._media_json(item))

    def _session(self, form: Form) -> Media | None:
        item = self.media.get(form.get("media_id") or "")
        return item if item is not None and item.chunked else None

    def _append(self, form: Form) -> Answer:
        item = self._session(form)
        if item is None or item.state != "uploading":
            return v1_error(400, 324, "Invalid media id.")
        index = form.get("segment_index") or ""
        upload = form.file("media")
        if not index.isdigit() or int(index) > 999 or upload is None:
            return v1_error(400, 214, "Bad request.")
        if len(upload.data) > CHUNK_LIMIT:
            return upload_error("Segment size exceeds 5 MB.")
        item.filename = upload.filename
        item.segments[int(index)] = upload.data
        return Answer(204, b"", {})

    def _finalize(self, form: Form) -> Answer:
        item = self._session(form)
        if item is None or item.state != "uploading":
            return v1_error(400, 324, "Invalid media id.")
        data = b"".join(item.segments[i] for i in sorted(item.segments))
        if len(data) != item.total_bytes or sorted(item.segments) != list(
            range(len(item.segments))
        ):
            return upload_error("Segments do not add up to provided total file size.")
        if item.media_type in VIDEO_TYPES and not is_mp4(data):
            return upload_error("media type unrecognized.")
        if item.media_type == "image/gif" and image_kind(data) != "gif":
            return upload_error("media type unrecognized.")
        item.data = data
        answer: dict[str, Any] = {**self._media_json(item), "size": len(data)}
        if item.category in ("tweet_video", "tweet_gif", "amplify_video"):
            item.state = "pending"
            answer["processing_info"] = {"state": "pending", "check_after_secs": 1}
        else:
            item.state = "succeeded"
            if item.media_type in VIDEO_TYPES:
                answer["video"] = {"video_type": item.media_type}
        return json_answer(201, answer)

    def _status(self, form: Form) -> Answer:
        item = self._session(form)
        if item is None:
            return v1_error(400, 324, "Invalid media id.")
        answer = self._media_json(item)
        if item.state in ("pending", "in_progress"):
            item.polls += 1
            if item.polls >= self.processing_polls:
                item.state = "failed" if self.fail_processing else "succeeded"
            else:
                item.state = "in_progress"
        if item.state == "in_progress":
            answer["processing_info"] = {
                "state": "in_progress",
                "check_after_secs": 1,
                "progress_percent": 50,
            }
        elif item.state == "failed":
            answer["processing_info"] = {
                "state": "failed",
                "progress_percent": 12,
                "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"},
            }
        elif item.state == "succeeded":
            answer["processing_info"] = {"state": "succeeded", "progress_percent": 100}
            if item.media_type in VIDEO_TYPES:
                answer["video"] = {"video_type": item.media_type}
        return json_answer(200, answer)

    # -- v2 media upload (OAuth 2) ----------------------------------------------------

    def _upload_v2(self, recorded: RecordedRequest) -> Answer:
        """`POST /2/media/upload` (an image, multipart), `GET ...?command=STATUS&media_id`,
        `POST .../initialize` (JSON), `POST .../{id}/append` (multipart),
        `POST .../{id}/finalize`: the v1.1 rules, v2 shapes (`{"data": {...}}`)."""
        refusal, _auth = self._authenticate(recorded, [], v1=False)
        if refusal is not None:
            return refusal
        rest = recorded.path[len(V2_UPLOAD_PATH) :].strip("/")
        try:
            form = (
                read_form(recorded) if recorded.method == "GET" or rest != "initialize" else Form()
            )
        except FormError:
            return invalid_request("Bad request body.")
        if rest == "" and recorded.method == "GET":
            answer = self._status(form) if form.get("command") == "STATUS" else None
        elif rest == "" and recorded.method == "POST":
            answer = self._simple(form)
        elif rest == "initialize" and recorded.method == "POST":
            try:
                body = json.loads(recorded.body or b"null")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return invalid_request("Request body is not a JSON object.")
            answer = self._init(Form(fields=[(k, str(v)) for k, v in body.items()]))
        elif rest.endswith(("/append", "/finalize")) and recorded.method == "POST":
            media_id, _, command = rest.partition("/")
            form.fields.append(("media_id", media_id))
            answer = (self._append if command == "append" else self._finalize)(form)
        else:
            answer = None
        if answer is None:
            return problem(404, "Not Found Error", f"Could not find {recorded.path}")
        return _as_v2(answer)

    # -- OAuth 2 -----------------------------------------------------------------------

    def _token(self, recorded: RecordedRequest) -> Answer:
        try:
            form = read_form(recorded)
        except FormError:
            return oauth2_error(400, "invalid_request", "Value passed for the body was invalid.")
        client_id = self._client_authenticated(recorded.header("authorization") or "")
        if client_id is None:
            return oauth2_error(401, "unauthorized_client", "Missing valid authorization header")
        if form.get("grant_type") == "authorization_code":
            grant = self.authorization.redeem(form, client_id)
            if isinstance(grant, Refusal):
                return oauth2_error(
                    400, "invalid_request", "Value passed for the authorization code was invalid."
                )
            return self._issue()
        if form.get("grant_type") != "refresh_token":
            return oauth2_error(
                400, "invalid_request", "Value passed for the grant type was invalid."
            )
        with self._lock:
            old = form.get("refresh_token") or ""
            if old not in self.refresh_tokens:
                return oauth2_error(
                    400, "invalid_request", "Value passed for the token was invalid."
                )
            self.refresh_tokens.discard(old)
        return self._issue()

    def _issue(self) -> Answer:
        """New tokens: an access token that lasts two hours and a refresh token."""
        with self._lock:
            serial = next(self._token_serial)
            access = f"{OAUTH2_TOKEN[:40]}-renewed-{serial}"
            refresh = f"{REFRESH_TOKEN[:24]}-renewed-{serial}"
            self.refresh_tokens.add(refresh)
            self.bearer_tokens.add(access)
            self.issued.append((access, refresh))
        return json_answer(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "scope": "tweet.write users.read tweet.read offline.access",
                "refresh_token": refresh,
            },
        )

    def _client_authenticated(self, header: str) -> str | None:
        """The client id of valid HTTP Basic client credentials, else None."""
        if not header.startswith("Basic "):
            return None
        try:
            decoded = b64decode(header[len("Basic ") :]).decode()
        except ValueError:
            return None
        client_id, _, secret = decoded.partition(":")
        return client_id if self.clients.get(client_id) == secret else None


def _as_v2(answer: Answer) -> Answer:
    """A v1.1 upload answer in v2's shape: `{"data": {"id", "media_key", ...}}`, or a
    v2 problem for a refusal."""
    if answer.status >= 400:
        try:
            words = json.loads(answer.body)
        except ValueError:
            words = {}
        detail = str(words.get("error") or words.get("errors") or "Bad request")
        return problem(answer.status, "Invalid Request", detail, INVALID_REQUEST)
    if not answer.body:
        return json_answer(200, {"data": {}})
    v1 = json.loads(answer.body)
    data = {k: v for k, v in v1.items() if k not in ("media_id", "media_id_string")}
    data["id"] = v1["media_id_string"]
    return json_answer(200, {"data": data})


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return int(image.width), int(image.height)
    except Exception:  # not an image Pillow reads: X would have refused it
        return 0, 0
