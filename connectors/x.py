"""X (Twitter): schemas, validation and the connector, driving tweepy 4.17.

Publishing, in order:

1. **Media**. With an OAuth 2 user token, X's v2 upload (`connectors/x_upload.py`:
   X's v1.1 upload takes no OAuth 2 token, and tweepy 4.17 has no v2 upload). With
   OAuth 1.0a, tweepy's v1.1 upload: images (JPEG, PNG, WebP) go up with tweepy's v1.1
   simple upload, a multipart `media` part (`API.simple_upload`); GIFs and videos with
   the chunked upload (`chunked_upload_init` / `_append` / `_finalize`, 4 MiB segments,
   `media_category` `tweet_gif` / `tweet_video`), then `get_media_upload_status` is
   polled (sleeping `check_after_secs` on the event loop, not in a thread) until X
   says `succeeded` or `failed`. These are the two paths `API.media_upload` chooses
   between; they are called directly because the connector knows each file's type,
   while `media_upload` sniffs it with `imghdr` (removed in Python 3.13) and otherwise
   guesses from the file name. Nothing of this is visible to anyone before the post
   exists, so any failure here, even one after the request left, is `Transient`.
2. **The post**: `Client.create_tweet(text=..., media_ids=[...], user_auth=...)`. The
   text is the post's text, then its link on a paragraph of its own (unless the text
   already holds it); `validate` measures the same text. OAuth 1.0a user context
   (`consumer_key/secret`, `access_token/secret`, `user_auth=True`), or an OAuth 2 user
   token (`Client(bearer_token=access_token)`, `user_auth=False`). An OAuth 2 token
   that X refuses (401; they last two hours) is renewed once with the refresh token,
   `POST {api_base or https://api.x.com}/2/oauth2/token`, and kept with
   `save_credentials` (X rotates the refresh token too); then the call is made again,
   which is safe because a 401 created nothing.
3. **Permalink** `https://x.com/{username}/status/{id}`, or `https://x.com/i/web/status/{id}`
   without a configured username.

tweepy is synchronous (requests): every call runs in a thread (`asyncio.to_thread`),
one request per thread hop so that a cancelled publish stops between requests.
tweepy builds `https://api.twitter.com/...` and `https://upload.twitter.com/...` URLs
itself and sets no timeout. A requests transport adapter (`XAdapter`) is mounted for
both hosts on the sessions of the tweepy objects: it applies the timeout (the read and
connect timeouts of the HTTP client the connector is given, 30 s when it has none)
and, when `config.api_base` / `config.upload_base` is set, sends the request there
instead, keeping path and query. OAuth 1.0a signs the request before any adapter sees
it, so the signature covers the original `https://api.twitter.com` URL: a proxy in
front of X forwards it unchanged, and the fake X in the tests verifies it against that
URL. tweepy's own functions are never patched; `wait_on_rate_limit` is never used.

Errors. tweepy raises `BadRequest` (400), `Unauthorized` (401), `Forbidden` (403),
`NotFound` (404), `TooManyRequests` (429), `TwitterServerError` (5xx) or
`HTTPException`; their message for us is X's: `api_messages` (the `errors[].message`
or the v2 problem's `detail`), else the problem's `title`. 429 -> `RateLimited` until
`x-rate-limit-reset` (epoch seconds), or the later `x-user-limit-24hour-reset` /
`x-app-limit-24hour-reset` when that day's quota is spent (`...-remaining: 0`); 401 ->
`AuthExpired`; 403 "duplicate content" -> `Permanent(code="duplicate")`, other 403 and
400 -> `Permanent`; 5xx -> `Transient`. `Client` lets requests' exceptions through;
`API` wraps them in `TweepyException("Failed to send request: ...")` (the original is
its `__context__`). A refused connection (urllib3's `NewConnectionError` in a
`MaxRetryError`), a connect timeout, a proxy refusal or a failed certificate check mean
nothing was sent: `Transient`. Anything else after the connection was made (read
timeout, reset, a garbled or cut answer) leaves the post's fate unknown: `Ambiguous`.

Messages carry X's words and exception type names only. tweepy logs request headers at
DEBUG (a bearer token), requests-oauthlib and oauthlib log the signing (keys, the
token, the base string), so their DEBUG records are dropped at their loggers.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import ssl
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import IO, Any, TypeVar
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
import requests
import tweepy
from pydantic import Field, field_validator, model_validator
from tweepy.parsers import JSONParser
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.exceptions import SSLError as Urllib3SSLError

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
    PartRef,
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
    NotConnected,
    body_excerpt,
    check_common_status,
    excerpt,
    json_body,
    not_allowed,
    redact,
    retry_after,
    send,
)
from connectors.outbound import AddressNotAllowed, OutboundPolicy
from connectors.requests_policy import PolicyAdapter
from connectors.rules import MB, media_problems, refuse, within_limits
from connectors.x_text import weighted_length
from connectors.x_upload import V2Upload

log = logging.getLogger(__name__)
T = TypeVar("T")

API_HOST = "https://api.twitter.com"  # tweepy's, for the v2 API
UPLOAD_HOST = "https://upload.twitter.com"  # tweepy's default upload_host
TOKEN_URL = "https://api.x.com/2/oauth2/token"
TOKEN_PATH = "/2/oauth2/token"
PERMALINK = "https://x.com/{username}/status/{id}"
PERMALINK_WITHOUT_USER = "https://x.com/i/web/status/{id}"
DEFAULT_TIMEOUT = 30.0  # seconds, when the HTTP client has none
CHUNK_BYTES = 4 * MB  # X takes segments of at most 5 MB, at most 1000 of them
MAX_SEGMENTS = 1000
MEDIA_CATEGORY = {"gif": "tweet_gif", "video": "tweet_video"}
PROCESSING_LIMIT_SECONDS = 300.0  # how long to wait for X to process a video or GIF
DUPLICATE_WORDS = "duplicate content"  # v2: "...create a Tweet with duplicate content."
DUPLICATE_CODE = 187  # v1.1: "Status is a duplicate."
DEAD_TOKEN_STATUSES = frozenset({400, 401})  # invalid_request / unauthorized_client


class XConfig(PlatformConfig):
    """`api_base` replaces https://api.twitter.com; `upload_base` replaces
    https://upload.twitter.com (without it, `api_base` serves uploads too)."""

    username: str | None = None
    upload_base: HttpUrlStr | None = Field(default=None, json_schema_extra=DESTINATION)

    @field_validator("username")
    @classmethod
    def _bare_username(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip().lstrip("@") or None


class XCredentials(PlatformCredentials):
    """OAuth 1.0a user context (four keys) or an OAuth 2 user token with its refresh data.

    With the access token secret (and the consumer key and secret) the access token is
    an OAuth 1.0a token; otherwise it is an OAuth 2 user token.
    """

    consumer_key: str | None = None
    consumer_secret: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    @model_validator(mode="after")
    def _one_complete_set(self) -> XCredentials:
        if not (self.oauth1 or self.oauth2):
            raise ValueError(
                "give consumer_key, consumer_secret, access_token and access_token_secret "
                "(OAuth 1.0a), or access_token, refresh_token, client_id and client_secret (OAuth 2)"
            )
        return self

    @property
    def oauth1(self) -> bool:
        return all(
            (self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret)
        )

    @property
    def oauth2(self) -> bool:
        return all((self.access_token, self.refresh_token, self.client_id, self.client_secret))


def tweet_text(request: PublishRequest) -> str:
    """What the post says on X: the text, then the link on its own paragraph unless the
    text already holds it."""
    text, link = request.text, request.link
    if not link or link in text:
        return text
    return f"{text.rstrip()}\n\n{link}" if text.strip() else link


# -- logging ---------------------------------------------------------------------------


class _NoDebug(logging.Filter):
    """tweepy logs request headers (a bearer token); requests-oauthlib and oauthlib log
    what they sign (the consumer key, the token, the base string). Drop their DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


QUIET_LOGGERS = (
    "tweepy.client",
    "tweepy.api",
    "requests_oauthlib.oauth1_auth",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
)
for _name in QUIET_LOGGERS:
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _NoDebug) for f in _logger.filters):
        _logger.addFilter(_NoDebug())


# -- the transport adapter -------------------------------------------------------------


def rewrite_url(url: str, base: SplitResult) -> str:
    """`url` with the scheme and host (and port) of `base`, `base`'s path before its own
    path, and its own query."""
    parts = urlsplit(url)
    return urlunsplit(
        (base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, "")
    )


class XAdapter(PolicyAdapter):
    """requests' adapter with a timeout of our choosing, sending to `base` when given,
    and connecting only where the outbound policy allows.

    Mounted on tweepy's sessions for X's hosts (and, without a base, for every other
    URL, should X redirect). By the time `send` runs, requests has applied the OAuth
    1.0a signature to the original URL; only where the bytes go changes. No retries
    (requests' default): a POST is never sent twice.
    """

    def __init__(
        self, base: str | None, timeout: tuple[float, float], policy: OutboundPolicy
    ) -> None:
        super().__init__(policy)
        self.base = urlsplit(base) if base else None
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if self.base is not None and request.url:
            request.url = rewrite_url(request.url, self.base)
        # tweepy's Client sets no timeout and its API 60 s: ours wins.
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout,
            verify=verify,
            cert=cert,
            proxies=dict(proxies) if proxies is not None else None,
        )


def timeouts_of(http: httpx.AsyncClient) -> tuple[float, float]:
    """(connect, read) seconds from the httpx client's timeouts; 30 s read when unset."""
    timeout = http.timeout
    read = timeout.read if timeout.read is not None else DEFAULT_TIMEOUT
    connect = timeout.connect if timeout.connect is not None else read
    return (connect, read)


# -- answers -----------------------------------------------------------------------------


def _epoch(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        seconds = int(value.strip())
    except ValueError:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def rate_limit_reset(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When X's 429 says to try again: `x-rate-limit-reset`, or the later reset of a
    24-hour user or app quota that is spent; `Retry-After` when none of these is there.
    Never before `now`; None when X names no time."""
    candidates = []
    window = _epoch(headers.get("x-rate-limit-reset"))
    if window is not None:
        candidates.append(window)
    for quota in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if _int_header(headers, f"{quota}-remaining") == 0:
            reset = _epoch(headers.get(f"{quota}-reset"))
            if reset is not None:
                candidates.append(reset)
    if not candidates:
        return retry_after(headers, now=now)
    return max(max(candidates), now)


def _x_words(exc: tweepy.HTTPException) -> str:
    """X's own words for a refusal: the error messages, else the problem's detail/title."""
    messages = [m.strip() for m in exc.api_messages if isinstance(m, str) and m.strip()]
    if not messages:
        try:
            body = exc.response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("detail", "title"):
                value = body.get(key)
                if isinstance(value, str) and value.strip():
                    messages.append(value.strip())
                    break
    if not messages:
        reason = getattr(exc.response, "reason", None)
        if isinstance(reason, str) and reason:
            messages.append(reason)
    return "; ".join(dict.fromkeys(messages))


def _is_duplicate(exc: tweepy.HTTPException) -> bool:
    if DUPLICATE_CODE in exc.api_codes:
        return True
    return any(isinstance(m, str) and DUPLICATE_WORDS in m.lower() for m in exc.api_messages)


def _transport_cause(exc: BaseException) -> requests.RequestException | None:
    """The requests exception behind `exc`: itself (Client), or the one tweepy's API
    wrapped in `TweepyException("Failed to send request: ...")`."""
    if isinstance(exc, requests.RequestException):
        return exc
    if isinstance(exc, tweepy.TweepyException) and not isinstance(exc, tweepy.HTTPException):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, requests.RequestException):
            return cause
    return None


def nothing_sent(exc: requests.RequestException) -> bool:
    """True when the failure certainly happened before the request left: the connection
    was refused or never made (connect timeout, DNS, a proxy that would not connect),
    or the server's certificate was refused during the handshake."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError):
        return True
    first = exc.args[0] if exc.args else None
    reason = first.reason if isinstance(first, MaxRetryError) else None
    if isinstance(exc, requests.exceptions.SSLError):
        inner = reason.args[0] if isinstance(reason, Urllib3SSLError) and reason.args else None
        return isinstance(inner, ssl.SSLCertVerificationError)
    if isinstance(exc, requests.ConnectionError):
        return isinstance(reason, NewConnectionError)
    return False


def _transport_error(exc: requests.RequestException) -> PublishError:
    first = exc.args[0] if exc.args else None
    reason = first.reason if isinstance(first, MaxRetryError) else first
    name = type(exc).__name__
    if isinstance(reason, BaseException) and type(reason).__name__ != name:
        name = f"{name}: {type(reason).__name__}"
    if nothing_sent(exc):
        url = exc.request.url if exc.request is not None else None
        host = urlsplit(str(url)).hostname if url else None
        return NotConnected(f"could not connect to X, nothing was sent ({name})", host or "X")
    return Ambiguous(f"no answer from X after the request was sent ({name})")


def _address_refusal(exc: BaseException) -> AddressNotAllowed | None:
    """The policy's refusal behind `exc`: itself, or what tweepy's API wrapped."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        if isinstance(seen, AddressNotAllowed):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _media_id(answer: object) -> str | None:
    if not isinstance(answer, dict):
        return None
    value = answer.get("media_id_string")
    if isinstance(value, str) and value.strip():
        return value.strip()
    value = answer.get("media_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# -- the connector -----------------------------------------------------------------------


def _reply(text: str, to: str | None, client: tweepy.Client, user_auth: bool) -> requests.Response:
    """A thread's part: a post in reply to the part before (v2 `reply.in_reply_to_tweet_id`)."""
    answer: requests.Response = client.create_tweet(
        text=text, in_reply_to_tweet_id=to, user_auth=user_auth
    )
    return answer


class XConnector(Connector):
    """Posts to one X account through tweepy (see the module doc)."""

    slug = "x"
    label = "X"
    short_label = "X"
    audience = "external"
    limits = Limits(
        text=280,
        text_unit="characters as X counts them",
        media_types={
            "image/jpeg": 5 * MB,
            "image/png": 5 * MB,
            "image/webp": 5 * MB,
            "image/gif": 15 * MB,
            "video/mp4": 512 * MB,
            "video/quicktime": 512 * MB,
        },
        max_images=4,
        max_videos=1,
    )
    config: XConfig
    credentials: XCredentials
    config_model = XConfig
    credentials_model = XCredentials

    @classmethod
    def measure(cls, request: PublishRequest) -> Measure:
        """X's weighted length of what goes out: the text with the link appended."""
        text = tweet_text(request)
        with_link = " (the link included)" if text != request.text else ""
        return Measure(weighted_length(text), cls.limits.text, cls.limits.text_unit + with_link)

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    chunk_bytes = CHUNK_BYTES
    processing_limit = PROCESSING_LIMIT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeouts = timeouts_of(self.http)
        self._retired: list[str] = []  # tokens replaced by a refresh, still secret

    @property
    def oauth1(self) -> bool:
        return self.credentials.oauth1

    @property
    def token_url(self) -> str:
        return (
            (self.config.api_base.rstrip("/") + TOKEN_PATH) if self.config.api_base else TOKEN_URL
        )

    def secrets(self) -> list[str]:
        c = self.credentials
        values = (
            c.consumer_key,
            c.consumer_secret,
            c.access_token,
            c.access_token_secret,
            c.refresh_token,
            c.client_secret,
            *self._retired,
        )
        return [v for v in values if v]

    # -- tweepy objects ----------------------------------------------------------------

    def _mount(self, session: requests.Session) -> None:
        # As the HTTP transport: no proxy from the environment, which would connect
        # for us out of the outbound policy's sight.
        session.trust_env = False
        for prefix in ("http://", "https://"):
            session.mount(prefix, XAdapter(None, self.timeouts, self.outbound))
        session.mount(API_HOST + "/", XAdapter(self.config.api_base, self.timeouts, self.outbound))
        upload = self.config.upload_base or self.config.api_base
        session.mount(UPLOAD_HOST + "/", XAdapter(upload, self.timeouts, self.outbound))

    def client(self) -> tweepy.Client:
        """tweepy's v2 client for these credentials; answers come back as requests'
        Response, read here (a 2xx whose body is not what X sends must not crash)."""
        c = self.credentials
        if self.oauth1:
            client = tweepy.Client(
                consumer_key=c.consumer_key,
                consumer_secret=c.consumer_secret,
                access_token=c.access_token,
                access_token_secret=c.access_token_secret,
                return_type=requests.Response,
            )
        else:
            client = tweepy.Client(bearer_token=c.access_token, return_type=requests.Response)
        self._mount(client.session)
        return client

    def api(self) -> tweepy.API:
        """tweepy's v1.1 API (media upload), OAuth 1.0a, answering parsed JSON."""
        c = self.credentials
        auth = tweepy.OAuth1UserHandler(
            c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret
        )
        api = tweepy.API(auth, parser=JSONParser(), timeout=self.timeouts[1], retry_count=0)
        self._mount(api.session)
        return api

    # -- errors --------------------------------------------------------------------------

    def error_for(self, exc: BaseException) -> PublishError | None:
        """The error kind for what tweepy raised; None for anything else."""
        refusal = _address_refusal(exc)
        if refusal is not None:
            return not_allowed(refusal)
        if isinstance(exc, tweepy.HTTPException):
            return self._http_error(exc)
        cause = _transport_cause(exc)
        if cause is not None:
            return _transport_error(cause)
        if isinstance(exc, tweepy.TweepyException):
            # tweepy's API could not read a 2xx answer ("Failed to parse JSON payload").
            return Ambiguous(f"X's answer could not be read ({type(exc).__name__})")
        return None

    def _http_error(self, exc: tweepy.HTTPException) -> PublishError:
        response = exc.response
        status = response.status_code
        words = excerpt(redact(_x_words(exc), self.secrets()))
        text = f"X answered HTTP {status}" + (f": {words}" if words else "")
        if isinstance(exc, tweepy.TooManyRequests):
            return RateLimited(text, rate_limit_reset(response.headers, self.now()))
        if isinstance(exc, tweepy.Unauthorized):
            return AuthExpired(f"{text} (reconnect the channel)")
        if isinstance(exc, tweepy.TwitterServerError):
            return Transient(text)
        if isinstance(exc, tweepy.Forbidden):
            return Permanent(text, code="duplicate" if _is_duplicate(exc) else "forbidden")
        if isinstance(exc, tweepy.BadRequest):
            return Permanent(text, code="invalid")
        if isinstance(exc, tweepy.NotFound):
            return Permanent(text, code="not_found")
        return Permanent(text, code=f"http_{status}")

    async def _tweepy(self, call: Callable[[], T]) -> T:
        """`call()` in a thread, tweepy's and requests' exceptions mapped to error kinds."""
        try:
            return await asyncio.to_thread(call)
        except (tweepy.TweepyException, requests.RequestException, AddressNotAllowed) as exc:
            error = self.error_for(exc)
            if error is None:
                raise
            raise error from None

    async def _v2(
        self, call: Callable[[tweepy.Client, bool], requests.Response]
    ) -> requests.Response:
        """A v2 call; with OAuth 2, a refused token is renewed once and the call repeated."""
        refreshed = False
        while True:
            client = self.client()
            try:
                return await self._tweepy(functools.partial(call, client, self.oauth1))
            except AuthExpired:
                if self.oauth1 or refreshed:
                    raise
            finally:
                client.session.close()
            await self._refresh()
            refreshed = True

    # -- publishing ----------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(media_problems(type(self), request.media), code="media")
        done = {part.index: part for part in request.done_parts}
        if 0 in done:  # a retry of a thread: the post is out already
            first = PublishResult(done[0].external_id, done[0].permalink)
        else:
            if self.oauth1:
                media_ids = await self.upload_media(request.media)
            else:
                media_ids = await self._upload_v2(request.media)
            text = tweet_text(request)
            response = await self._v2(
                lambda client, user_auth: client.create_tweet(
                    text=text or None, media_ids=media_ids or None, user_auth=user_auth
                )
            )
            first = await reported(request, 0, self._result(response))
        await self._thread(request, first, done)
        return first

    async def _thread(
        self, request: PublishRequest, first: PublishResult, done: dict[int, PartRef]
    ) -> None:
        """The thread's parts, each a reply to the part before; those out are skipped."""
        previous = first.external_id
        for index, part in enumerate(request.thread, start=1):
            if index in done:
                previous = done[index].external_id
                continue
            response = await self._v2(functools.partial(_reply, part, previous))
            previous = (await reported(request, index, self._result(response))).external_id

    def _result(self, response: requests.Response) -> PublishResult:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        data = answer.get("data") if isinstance(answer, dict) else None
        tweet_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(tweet_id, int) and not isinstance(tweet_id, bool):
            tweet_id = str(tweet_id)
        if not isinstance(tweet_id, str) or not tweet_id.strip():
            raise Ambiguous(
                f"X answered HTTP {response.status_code} without the post's id; "
                "the post may have been published"
            )
        tweet_id = tweet_id.strip()
        if self.config.username:
            permalink = PERMALINK.format(username=self.config.username, id=tweet_id)
        else:
            permalink = PERMALINK_WITHOUT_USER.format(id=tweet_id)
        return PublishResult(external_id=tweet_id, permalink=permalink)

    # -- media -----------------------------------------------------------------------------

    async def _upload_v2(self, media: tuple[MediaFile, ...]) -> list[str]:
        """OAuth 2: X's v2 upload (connectors/x_upload.py); a refused token is renewed
        once and the upload made again (nothing is public before the post)."""
        if not media:
            return []
        try:
            return await V2Upload(self).upload(media)
        except AuthExpired:
            await self._refresh()
            return await V2Upload(self).upload(media)

    async def upload_media(self, media: tuple[MediaFile, ...]) -> list[str]:
        """Each file's X media id, in order. Raises no Ambiguous: nothing is public yet."""
        if not media:
            return []
        api = self.api()
        try:
            ids = []
            for item in media:
                if item.kind in MEDIA_CATEGORY:
                    ids.append(await self._chunked(api, item, MEDIA_CATEGORY[item.kind]))
                else:
                    ids.append(await self._simple(api, item))
            return ids
        except Ambiguous as exc:
            raise Transient(
                f"{exc.message}, while uploading media; nothing was published "
                "(media go up before the post)"
            ) from None
        finally:
            api.session.close()

    @staticmethod
    def _open(item: MediaFile) -> IO[bytes]:
        try:
            return item.path.open("rb")
        except OSError:
            raise Permanent(
                f"{item.filename}: the media file cannot be read", code="media_missing"
            ) from None

    async def _simple(self, api: tweepy.API, item: MediaFile) -> str:
        with self._open(item) as handle:
            answer = await self._tweepy(lambda: api.simple_upload(item.filename, file=handle))
        media_id = _media_id(answer)
        if media_id is None:
            raise Transient(f"X did not return a media id for {item.filename}")
        return media_id

    async def _chunked(self, api: tweepy.API, item: MediaFile, category: str) -> str:
        with self._open(item) as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(0)
            segments = max(1, math.ceil(size / self.chunk_bytes))
            if segments > MAX_SEGMENTS:
                raise Permanent(f"{item.filename} is too large for X's upload", code="media")
            answer = await self._tweepy(
                lambda: api.chunked_upload_init(size, item.content_type, media_category=category)
            )
            media_id = _media_id(answer)
            if media_id is None:
                raise Transient(f"X did not return a media id for {item.filename}")

            def append(index: int) -> None:
                chunk = handle.read(self.chunk_bytes)
                api.chunked_upload_append(media_id, (item.filename, chunk), index)

            for index in range(segments):
                await self._tweepy(functools.partial(append, index))
        answer = await self._tweepy(lambda: api.chunked_upload_finalize(media_id))
        info = answer.get("processing_info") if isinstance(answer, dict) else None
        await self._processed(api, item, media_id, info)
        return media_id

    async def _processed(
        self, api: tweepy.API, item: MediaFile, media_id: str, info: object
    ) -> None:
        """Wait until X has processed the media (FINALIZE's or STATUS's `processing_info`)."""
        deadline = time.monotonic() + self.processing_limit
        while True:
            if not isinstance(info, dict):
                return  # no processing_info: nothing to wait for
            state = info.get("state")
            if state is None or state == "succeeded":
                return
            if state == "failed":
                error = info.get("error")
                message = error.get("message") if isinstance(error, dict) else None
                words = excerpt(redact(str(message or "no reason given"), self.secrets()))
                raise Permanent(
                    f"X could not process {item.filename}: {words}", code="media_processing"
                )
            if state not in ("pending", "in_progress"):
                raise Transient(
                    f"X reports {item.filename} in an unknown state ({excerpt(str(state))})"
                )
            wait = info.get("check_after_secs")
            delay = (
                float(wait) if isinstance(wait, int | float) and not isinstance(wait, bool) else 1.0
            )
            delay = min(max(delay, 0.1), 60.0)
            if time.monotonic() + delay > deadline:
                raise Transient(
                    f"X was still processing {item.filename} after "
                    f"{self.processing_limit:.0f} s; nothing was published"
                )
            await asyncio.sleep(delay)
            answer = await self._tweepy(lambda: api.get_media_upload_status(media_id))
            info = answer.get("processing_info") if isinstance(answer, dict) else None

    # -- OAuth 2 token refresh -------------------------------------------------------------

    async def _refresh(self) -> None:
        """Renew the OAuth 2 access token (and the rotating refresh token); keep both.

        With the caller's single-flight hook (app/connect/tokens.py), the renewal runs
        with the channel locked across processes, or takes the token another process
        just renewed; without one, the connector renews it itself."""
        c = self.credentials
        if self.refresh_credentials is not None:
            fresh = await self.refresh_credentials(c.access_token or "")
            self._retired += [v for v in (c.access_token, c.refresh_token) if v]
            known = {k: v for k, v in fresh.items() if k in XCredentials.model_fields}
            self.credentials = XCredentials.model_validate(known)
            return
        form = {
            "grant_type": "refresh_token",
            "refresh_token": c.refresh_token or "",
            "client_id": c.client_id or "",
        }
        try:
            response = await send(
                self.http,
                "POST",
                self.token_url,
                data=form,
                auth=httpx.BasicAuth(c.client_id or "", c.client_secret or ""),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                secrets=self.secrets(),
            )
        except Ambiguous as exc:
            # Renewing a token publishes nothing: trying again later is safe.
            raise Transient(f"renewing the X access token: {exc.message}") from None
        answer = json_body(response)
        if response.is_success:
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise Transient("X's token endpoint answered without an access token")
            changed = {"access_token": token}
            rotated = answer.get("refresh_token") if isinstance(answer, dict) else None
            if isinstance(rotated, str) and rotated:
                changed["refresh_token"] = rotated
            self._retired += [v for v in (c.access_token, c.refresh_token) if v]
            try:
                await self.save_credentials(changed)
            except Exception as exc:  # keep going with the token in hand
                log.warning("could not store the renewed X tokens (%s)", type(exc).__name__)
                self.credentials = self.credentials.model_copy(update=changed)
            return
        detail = self._oauth_error(answer) or body_excerpt(response, secrets=self.secrets())
        text = f"X's token endpoint answered HTTP {response.status_code}" + (
            f" ({detail})" if detail else ""
        )
        if response.status_code in DEAD_TOKEN_STATUSES:
            # invalid_request (a revoked or used-up refresh token), unauthorized_client.
            raise AuthExpired(f"X refused to renew the access token: {text}; reconnect the channel")
        check_common_status(
            response, platform="X's token endpoint", now=self.now(), secrets=self.secrets()
        )
        raise Permanent(text, code=f"http_{response.status_code}")

    def _oauth_error(self, answer: Any) -> str:
        if not isinstance(answer, dict):
            return ""
        parts = [answer.get("error"), answer.get("error_description")]
        words = ": ".join(p for p in parts if isinstance(p, str) and p)
        return excerpt(redact(words, self.secrets()))

    # -- checking ------------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """`GET /2/users/me` (tweepy `get_me`): whose account the credentials open."""
        try:
            response = await self._v2(lambda client, user_auth: client.get_me(user_auth=user_auth))
        except PublishError as exc:
            host = urlsplit(self.config.api_base or API_HOST).hostname or "X"
            return check_failed(exc, label=self.short_label, host=host)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("username"), str):
            return unexpected_answer(self.short_label)
        username = shown_name(data["username"], limit=50)
        name = data.get("name")
        account = {
            "id": shown_name(data.get("id") or ""),
            "username": username,
            "name": shown_name(name) if isinstance(name, str) else None,
        }
        configured = self.config.username
        if configured and configured.lower() != username.lower():
            return CheckResult(
                ok=False,
                detail=f"the credentials open @{username}, not the configured @{configured}",
                account=account,
            )
        return CheckResult(ok=True, detail=f"Connected to X as @{username}", account=account)
