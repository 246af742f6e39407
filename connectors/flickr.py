"""Flickr: schemas, validation and the upload connector.

Upload: `POST https://up.flickr.com/services/upload/`, multipart, with `photo` (the
file) and `title`, `description`, `tags`, `is_public`, `is_friend`, `is_family`,
`content_type`, `hidden`. It is signed with OAuth 1.0a HMAC-SHA1 (oauthlib) in the
`Authorization` header; every parameter but `photo` goes into the signature. Flickr
answers in the REST XML style: `<rsp stat="ok"><photoid>…</photoid></rsp>`, or
`<rsp stat="fail"><err code="…" msg="…"/></rsp>`, parsed with defusedxml. OAuth-level
refusals (bad signature, unknown key or token) come before that as HTTP 401 with a
form-encoded `oauth_problem=…` body.

Hosts: `config.api_base` replaces `https://api.flickr.com` (REST, used by `check`),
`config.upload_base` replaces `https://up.flickr.com` (uploads); without an
upload_base, an api_base serves both (one fake in tests, one proxy in a deployment).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_AUTH_HEADER, Client
from pydantic import Field

from connectors.base import (
    DESTINATION,
    Ambiguous,
    AuthExpired,
    CheckResult,
    Connector,
    HttpUrlStr,
    Limits,
    ObjectiveRef,
    Permanent,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishError,
    PublishRequest,
    PublishResult,
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
    send,
)
from connectors.rules import MB, media_problems, refuse, within_limits

API_BASE = "https://api.flickr.com"
UPLOAD_BASE = "https://up.flickr.com"
UPLOAD_PATH = "/services/upload/"
REST_PATH = "/services/rest/"
PERMALINK = "https://www.flickr.com/photos/{user}/{photo}"
MAX_TITLE = 100  # a title made from the text's first line is cut here

# Flickr's error codes (flickr.com/services/api/upload.api.html and each REST method's
# page): all of these are fixed by connecting the account again.
AUTH_CODES = {
    96: "invalid signature",
    97: "missing signature",
    98: "login failed / invalid auth token",
    99: "user not logged in / insufficient permissions",
    100: "invalid API key",
}
# 0: video uploads temporarily disabled; 105: service currently unavailable;
# 106: write operation failed (a temporary issue).
TRANSIENT_CODES = frozenset({0, 105, 106})
UPLOAD_LIMIT = 6  # "User exceeded upload limit": the account's monthly/free-account limit
DUPLICATE = 9  # "Duplicate photo/video detected" (only with dedup_check)
PERMANENT_CODES = {2: "no_photo", 3: "upload_failed", 4: "empty_file", 5: "unknown_filetype"}


class FlickrConfig(PlatformConfig):
    user_nsid: str
    is_public: bool = True
    is_friend: bool = False
    is_family: bool = False
    # True: hidden from public searches (Flickr's hidden=2); False: shown (hidden=1).
    hide_from_search: bool = False
    upload_base: HttpUrlStr | None = Field(default=None, json_schema_extra=DESTINATION)


class FlickrCredentials(PlatformCredentials):
    consumer_key: str
    consumer_secret: str
    oauth_token: str
    oauth_token_secret: str


class _NoSigningDebug(logging.Filter):
    """oauthlib logs what it signs at DEBUG: the consumer key, the token, the post."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_OAUTHLIB_LOGGER = logging.getLogger("oauthlib.oauth1.rfc5849")
if not any(isinstance(f, _NoSigningDebug) for f in _OAUTHLIB_LOGGER.filters):
    _OAUTHLIB_LOGGER.addFilter(_NoSigningDebug())


# -- what goes up --------------------------------------------------------------------


def tags_for(objectives: tuple[ObjectiveRef, ...]) -> str:
    """Flickr's space-separated tags, one per objective; multi-word names in quotes."""
    tags = []
    for objective in objectives:
        name = " ".join(objective.name.replace('"', " ").split())
        if name:
            tags.append(f'"{name}"' if " " in name else name)
    return " ".join(dict.fromkeys(tags))


def title_for(request: PublishRequest) -> str:
    """The post's title, else the first non-empty line of its text (cut to MAX_TITLE)."""
    if request.title and request.title.strip():
        return request.title.strip()
    for line in request.text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= MAX_TITLE else line[: MAX_TITLE - 1].rstrip() + "…"
    return ""


def description_for(request: PublishRequest) -> str:
    """The text, then the link. Flickr reads some HTML here, so the text is escaped."""
    parts = [html.escape(request.text.strip(), quote=False)] if request.text.strip() else []
    if request.link:
        parts.append(html.escape(request.link, quote=False))
    return "\n\n".join(parts)


def _flag(value: bool) -> str:
    return "1" if value else "0"


# -- the connector -------------------------------------------------------------------


class FlickrConnector(Connector):
    """Uploads one photo or video per post to one Flickr account (see the module doc)."""

    slug = "flickr"
    label = "Flickr"
    short_label = "Flickr"
    audience = "external"
    # The text is the photo's description, and may be empty; the title, when not
    # given, is made from the text (cut at MAX_TITLE), so neither is limited here.
    limits = Limits(
        text_required=False,
        media_types={
            "image/jpeg": 200 * MB,
            "image/png": 200 * MB,
            "image/gif": 200 * MB,
            "image/tiff": 200 * MB,
            "video/mp4": 1024 * MB,
            "video/quicktime": 1024 * MB,
        },
        single_file="photo or video",
    )
    config: FlickrConfig
    credentials: FlickrCredentials
    config_model = FlickrConfig
    credentials_model = FlickrCredentials

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    @property
    def upload_url(self) -> str:
        base = self.config.upload_base or self.config.api_base or UPLOAD_BASE
        return base.rstrip("/") + UPLOAD_PATH

    @property
    def rest_url(self) -> str:
        return (self.config.api_base or API_BASE).rstrip("/") + REST_PATH

    def secrets(self) -> list[str]:
        c = self.credentials
        return [c.consumer_secret, c.oauth_token_secret, c.oauth_token, c.consumer_key]

    def _authorization(self, method: str, url: str, params: list[tuple[str, str]]) -> str:
        """The OAuth 1.0a `Authorization` header for `params` sent to `url` (oauthlib)."""
        client = Client(
            self.credentials.consumer_key,
            client_secret=self.credentials.consumer_secret,
            resource_owner_key=self.credentials.oauth_token,
            resource_owner_secret=self.credentials.oauth_token_secret,
            signature_method=SIGNATURE_HMAC_SHA1,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            timestamp=str(int(self.now().timestamp())),
        )
        if method == "GET":
            _, headers, _ = client.sign(f"{url}?{urlencode(params)}", http_method="GET")
        else:
            _, headers, _ = client.sign(
                url,
                http_method=method,
                body=params,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        return str(headers["Authorization"])

    # -- publishing ------------------------------------------------------------------

    def upload_fields(self, request: PublishRequest) -> list[tuple[str, str]]:
        """Every upload parameter but `photo`: these are signed."""
        fields = [
            ("title", title_for(request)),
            ("description", description_for(request)),
            ("tags", tags_for(request.objectives)),
            ("is_public", _flag(self.config.is_public)),
            ("is_friend", _flag(self.config.is_friend)),
            ("is_family", _flag(self.config.is_family)),
            ("content_type", "1"),  # 1 photo, 2 screenshot, 3 other
            ("hidden", "2" if self.config.hide_from_search else "1"),
        ]
        return [(k, v) for k, v in fields if v]

    async def publish(self, request: PublishRequest) -> PublishResult:
        refuse(media_problems(type(self), request.media), code="media")
        media = request.media[0]
        fields = self.upload_fields(request)
        headers = {
            "Authorization": self._authorization("POST", self.upload_url, fields),
            "User-Agent": USER_AGENT,
        }
        try:
            handle = media.path.open("rb")
        except OSError:
            raise Permanent(
                f"{media.filename}: the media file cannot be read", code="media_missing"
            ) from None
        with handle:
            response = await send(
                self.http,
                "POST",
                self.upload_url,
                data=dict(fields),
                files={"photo": (media.filename, handle, media.content_type)},
                headers=headers,
                secrets=self.secrets(),
            )
        root = self._rsp(response)
        photo_id = (root.findtext("photoid") or "").strip()
        if not photo_id:
            raise Ambiguous(
                "Flickr answered ok without a photo id; the photo may have been uploaded"
            )
        return PublishResult(
            external_id=photo_id,
            permalink=PERMALINK.format(user=self.config.user_nsid, photo=photo_id),
        )

    def _rsp(self, response: httpx.Response) -> Element:
        """The `<rsp stat="ok">` element, or the error kind the answer means."""
        self._raise_for_oauth_problem(response)
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )
        root = _parse_xml(response.content)
        if root is None or root.tag != "rsp":
            if response.is_success:
                raise Ambiguous(
                    f"Flickr answered HTTP {response.status_code} with something other than "
                    "its XML answer; the photo may have been uploaded"
                )
            raise Permanent(self._http_message(response), code=f"http_{response.status_code}")
        if root.get("stat") == "ok":
            return root
        err = root.find("err")
        code_text = err.get("code") if err is not None else None
        message = err.get("msg") if err is not None else None
        code = int(code_text) if code_text and code_text.strip().isdigit() else None
        raise self._flickr_error(code, message or "no message")

    def _flickr_error(self, code: int | None, message: str) -> PublishError:
        text = f"Flickr answered error {code if code is not None else '?'}: " + excerpt(
            redact(message, self.secrets())
        )
        if code in AUTH_CODES:
            return AuthExpired(f"{text} (reconnect the channel)")
        if code in TRANSIENT_CODES:
            return Transient(text)
        if code == UPLOAD_LIMIT:
            return Permanent(
                f"{text} (the account has reached its upload limit; free accounts hold "
                "1,000 items)",
                code="upload_limit",
            )
        if code == DUPLICATE:
            return Permanent(text, code="duplicate")
        if code in PERMANENT_CODES:
            return Permanent(text, code=PERMANENT_CODES[code])
        return Permanent(text, code=f"flickr_{code}" if code is not None else "flickr_error")

    def _raise_for_oauth_problem(self, response: httpx.Response) -> None:
        """Flickr's OAuth layer refuses with `oauth_problem=…` (HTTP 401): reconnect."""
        try:
            text = response.text
        except Exception:  # undecodable body
            return
        if "oauth_problem=" not in text[:200]:
            return
        problem = dict(parse_qsl(text.strip())).get("oauth_problem", "unknown")
        if not re.fullmatch(r"[a-z_]{1,64}", problem):
            problem = "unknown"
        # Only the problem's name: Flickr's debug_sbs echoes the signed base string.
        raise AuthExpired(
            f"Flickr refused the OAuth credentials ({problem}, HTTP {response.status_code}): "
            "reconnect the channel"
        )

    def _http_message(self, response: httpx.Response) -> str:
        detail = body_excerpt(response, secrets=self.secrets())
        head = f"Flickr answered HTTP {response.status_code}"
        return f"{head}: {detail}" if detail else head

    # -- checking --------------------------------------------------------------------

    async def check(self) -> CheckResult:
        """`flickr.test.login`, signed, as JSON: who the token belongs to. Posts nothing."""
        params = [("method", "flickr.test.login"), ("format", "json"), ("nojsoncallback", "1")]
        headers = {
            "Authorization": self._authorization("GET", self.rest_url, params),
            "User-Agent": USER_AGENT,
        }
        try:
            response = await send(
                self.http,
                "GET",
                self.rest_url,
                params=params,
                headers=headers,
                secrets=self.secrets(),
            )
            self._raise_for_oauth_problem(response)
            check_common_status(
                response, platform=self.short_label, now=self.now(), secrets=self.secrets()
            )
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=httpx.URL(self.rest_url).host)
        answer = json_body(response)
        if not isinstance(answer, dict):
            return unexpected_answer(self.short_label)
        if answer.get("stat") != "ok":
            code = answer.get("code")
            error = self._flickr_error(
                code if isinstance(code, int) else None, str(answer.get("message") or "")
            )
            return check_failed(error, label=self.short_label, host=httpx.URL(self.rest_url).host)
        user = answer.get("user")
        if not isinstance(user, dict):
            user = {}
        nsid = shown_name(user.get("id") or "")
        username = shown_name(_content(user.get("username")) or nsid)
        if nsid and nsid != self.config.user_nsid:
            return CheckResult(
                ok=False,
                detail=f"the token belongs to Flickr user {nsid} ({username}), "
                f"not the configured {self.config.user_nsid}",
            )
        return CheckResult(
            ok=True,
            detail=f"Logged in to Flickr as {username}",
            account={"id": nsid or self.config.user_nsid, "username": username},
        )


def _content(value: Any) -> str:
    """Flickr's JSON wraps text as {"_content": "..."}."""
    if isinstance(value, dict):
        value = value.get("_content")
    return value if isinstance(value, str) else ""


def _parse_xml(data: bytes) -> Element | None:
    if not data.strip():
        return None
    try:
        root = fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    return root if isinstance(root, Element) else None
