"""A fake Flickr for one account: the upload endpoint and the REST `flickr.test.login`.

A real HTTP server on 127.0.0.1 that, like Flickr:

- checks OAuth 1.0a on every call, with oauthlib's own signature functions: the
  `Authorization: OAuth ...` header must name the known consumer key and a live token,
  HMAC-SHA1, a timestamp and a nonce never seen before, and carry the HMAC-SHA1
  signature of the method, URL, query and form fields. For an upload the fields are
  the multipart text parts: every parameter but `photo`. A refusal is Flickr's OAuth
  layer's: HTTP 401 with a form-encoded `oauth_problem=...` body (`signature_invalid`
  comes with `debug_sbs`, the base string Flickr computed), or, with no signature at
  all, the XML error 97;
- `POST /services/upload/` (multipart `photo` plus `title`, `description`, `tags`,
  `is_public`, `is_friend`, `is_family`, `safety_level`, `content_type`, `hidden`)
  answers `<rsp stat="ok"><photoid>…</photoid></rsp>`, or `<rsp stat="fail"><err
  code="2|4|5" …/></rsp>` for a missing, empty or unrecognised file;
- `/services/rest/?method=flickr.test.login` answers who the token belongs to, in JSON
  (`format=json&nojsoncallback=1`) or XML.

A test scripts the next answers with `answer_next(...)`: `flickr_error(code)` gives the
documented XML failure for each upload error code, `too_many_requests()` the 429 page,
and tests.fakes.sinks' `hang`/`drop` a timeout or a dropped connection. Uploads land in
`photos`; every request is in `requests`.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass
from html import escape
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from oauthlib.oauth1.rfc5849 import signature, utils

from tests.fakes.forms import Form, FormError, image_kind, is_mp4, read_form
from tests.fakes.sinks import Answer, RecordedRequest, SinkBacked, SinkServer, text_answer

CONSUMER_KEY = "9a0554259914a86fb9e7eb014e4e5d52"
CONSUMER_SECRET = "000005fab4534d05"
OAUTH_TOKEN = "72157626737672178-022bbd2f4c2f3432"
OAUTH_TOKEN_SECRET = "fccb68c4e6103197"
USER_NSID = "35468147630@N01"
USERNAME = "cadence-comms"
UPLOAD_PATH = "/services/upload/"
REST_PATH = "/services/rest/"
OAUTH_PATH = "/services/oauth/"  # on www.flickr.com

# flickr.com/services/api/upload.api.html, and the REST methods' common errors.
ERRORS: dict[int, str] = {
    0: "Video uploads are temporarily disabled",
    2: "No photo specified",
    3: "General upload failure",
    4: "Filesize was zero",
    5: "Filetype was not recognised",
    6: "User exceeded upload limit",
    7: "User exceeded video upload limit",
    8: "Filesize was too large",
    9: "Duplicate photo/video detected",
    95: "SSL is required",
    96: "Invalid signature",
    97: "Missing signature",
    98: "Invalid auth token",
    99: "Insufficient permissions. Method requires write privileges; none granted.",
    100: "Invalid API Key (Key has invalid format)",
    105: "Service currently unavailable",
    106: "Write operation failed",
    116: "Bad URL found",
}
XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


def _xml(inner: str, stat: str) -> Answer:
    body = f'<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="{stat}">\n{inner}\n</rsp>\n'
    return Answer(200, body.encode(), dict(XML_HEADERS))


def flickr_error(code: int, message: str | None = None) -> Answer:
    """Flickr's REST-style XML failure (HTTP 200) for `code`."""
    msg = escape(message or ERRORS.get(code, "Unknown error"), quote=True)
    return _xml(f'\t<err code="{code}" msg="{msg}" />', "fail")


def flickr_ok(photo_id: str) -> Answer:
    return _xml(f"<photoid>{escape(photo_id)}</photoid>", "ok")


def oauth_problem(problem: str, **extra: str) -> Answer:
    """Flickr's OAuth layer: HTTP 401, `oauth_problem=...` form-encoded."""
    return text_answer(401, urlencode({"oauth_problem": problem, **extra}))


def too_many_requests(retry_after: str | None = None) -> Answer:
    """Flickr's 429 page (an HTML body); `Retry-After` only when given."""
    headers = {"Content-Type": "text/html"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    body = (
        "<html><body><h1>429 Too Many Requests</h1>\n"
        "You have sent too many requests in a given amount of time.\n</body></html>\n"
    )
    return Answer(429, body.encode(), headers)


@dataclass(frozen=True)
class UploadedPhoto:
    id: str
    fields: dict[str, str]
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def tags(self) -> list[str]:
        """The tags as Flickr reads them: space-separated, "quoted phrases" kept whole."""
        return _split_tags(self.fields.get("tags", ""))


def _split_tags(text: str) -> list[str]:
    tags, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == " " and not quoted:
            if current:
                tags.append(current)
            current = ""
        else:
            current += char
    if current:
        tags.append(current)
    return tags


class FakeFlickr(SinkBacked):
    def __init__(
        self,
        *,
        consumer_key: str = CONSUMER_KEY,
        consumer_secret: str = CONSUMER_SECRET,
        token: str = OAUTH_TOKEN,
        token_secret: str = OAUTH_TOKEN_SECRET,
        user_nsid: str = USER_NSID,
        username: str = USERNAME,
    ) -> None:
        self.consumers = {consumer_key: consumer_secret}
        self.tokens = {token: token_secret}
        self.user_nsid = user_nsid
        self.username = username
        self.sink = SinkServer()
        self.photos: list[UploadedPhoto] = []
        self.signatures_checked = 0
        self._nonces: set[tuple[str, str]] = set()
        self._ids = itertools.count(53_300_000_001)
        self._next = 53_300_000_001
        self._scripted: deque[Answer] = deque()
        self._lock = threading.Lock()
        # OAuth 1.0a three-legged (the Connect flow): request tokens (token -> secret,
        # callback), verifiers given on approval, each usable once.
        self.request_tokens: dict[str, tuple[str, str]] = {}
        self.verifiers: dict[str, str] = {}  # request token -> verifier
        self.access_tokens_issued: list[tuple[str, str]] = []
        self._legs = itertools.count(1)
        # Photos' figures ("views", "comments", "faves") by id; deleted ids are error 1.
        self.figures: dict[str, dict[str, int]] = {}
        self.deleted: set[str] = set()
        self.sink.answer_with(self._handle)

    # -- life ------------------------------------------------------------------------

    # -- telling it what to do ---------------------------------------------------------

    def answer_next(self, *answers: Answer) -> None:
        with self._lock:
            self._scripted.extend(answers)

    def revoke(self, token: str = OAUTH_TOKEN) -> None:
        """The member revoked the app's access: the token is rejected from now on."""
        self.tokens.pop(token, None)

    def upcoming_id(self) -> str:
        return str(self._next)

    # -- serving ---------------------------------------------------------------------

    def _handle(self, recorded: RecordedRequest) -> Answer:
        with self._lock:
            scripted = self._scripted.popleft() if self._scripted else None
        if scripted is not None:
            return scripted
        try:
            form = read_form(recorded)
        except FormError:
            return flickr_error(3 if recorded.path == UPLOAD_PATH else 112, "Bad request body")
        if recorded.path.startswith(OAUTH_PATH):
            return self._three_legged(recorded, form)
        refusal = self._check_oauth(recorded, form)
        if refusal is not None:
            return refusal
        if recorded.path == UPLOAD_PATH and recorded.method == "POST":
            return self._upload(form)
        if recorded.path == REST_PATH:
            return self._rest(form)
        return Answer(404, b"Not Found", {"Content-Type": "text/plain"})

    # -- OAuth 1.0a three-legged ----------------------------------------------------------

    def _three_legged(self, recorded: RecordedRequest, form: Form) -> Answer:
        leg = recorded.path[len(OAUTH_PATH) :]
        if leg == "authorize" and recorded.method == "GET":
            token = form.get("oauth_token") or ""
            if token not in self.request_tokens:
                return Answer(400, b"Invalid oauth_token", {"Content-Type": "text/plain"})
            return Answer(
                200,
                (
                    "<!doctype html><html lang='en'><head><title>Flickr</title></head><body>"
                    "<main><h1>Allow Cadence to access your Flickr account?</h1>"
                    f'<form method="post" action="{OAUTH_PATH}authorize/decide">'
                    f'<input type="hidden" name="oauth_token" value="{escape(token)}">'
                    '<button name="decision" value="allow">OK, I\'ll authorize it</button>'
                    "</form></main></body></html>"
                ).encode(),
                {"Content-Type": "text/html; charset=utf-8"},
            )
        if leg == "authorize/decide" and recorded.method == "POST":
            return self._decide(form.get("oauth_token") or "")
        if leg in ("request_token", "access_token"):
            header = recorded.header("authorization") or ""
            try:
                oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
            except (ValueError, IndexError):
                return oauth_problem("parameter_rejected")
            if leg == "request_token":
                return self._request_token(recorded, form, oauth)
            return self._access_token(recorded, form, oauth)
        return Answer(404, b"Not Found", {"Content-Type": "text/plain"})

    def _signed(self, recorded: RecordedRequest, form: Form, token_secret: str) -> bool:
        header = recorded.header("authorization") or ""
        params = signature.collect_parameters(
            uri_query=recorded.query,
            body=form.body_fields,
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        request = SimpleNamespace(
            http_method=recorded.method,
            uri=f"http://{recorded.header('host')}{recorded.path}",
            params=params,
            signature=oauth.get("oauth_signature", ""),
        )
        secret = self.consumers.get(oauth.get("oauth_consumer_key", ""))
        self.signatures_checked += 1
        return secret is not None and bool(
            signature.verify_hmac_sha1(request, secret, token_secret)
        )

    def _request_token(
        self, recorded: RecordedRequest, form: Form, oauth: dict[str, str]
    ) -> Answer:
        callback = oauth.get("oauth_callback") or form.get("oauth_callback")
        if not callback:
            return oauth_problem("parameter_absent", oauth_parameters_absent="oauth_callback")
        if not self._signed(recorded, form, ""):
            return oauth_problem("signature_invalid")
        serial = next(self._legs)
        token, secret = f"72157720000000{serial:03d}-requesttoken", f"rq{serial:03d}secret"
        with self._lock:
            self.request_tokens[token] = (secret, callback)
        body = urlencode(
            {"oauth_callback_confirmed": "true", "oauth_token": token, "oauth_token_secret": secret}
        )
        return text_answer(200, body)

    def _decide(self, token: str) -> Answer:
        with self._lock:
            found = self.request_tokens.get(token)
            if found is None:
                return Answer(400, b"Invalid oauth_token", {"Content-Type": "text/plain"})
            verifier = f"5d1b96a26b{len(self.verifiers) + 1:06d}"
            self.verifiers[token] = verifier
        callback = found[1]
        joiner = "&" if "?" in callback else "?"
        query = urlencode({"oauth_token": token, "oauth_verifier": verifier})
        return Answer(302, b"", {"Location": f"{callback}{joiner}{query}"})

    def approve(self, authorize_url: str) -> str:
        """Where the browser goes after the member's "OK" (tests without a browser)."""
        from urllib.parse import parse_qs, urlsplit

        token = parse_qs(urlsplit(authorize_url).query)["oauth_token"][0]
        return self._decide(token).headers["Location"]

    def _access_token(self, recorded: RecordedRequest, form: Form, oauth: dict[str, str]) -> Answer:
        token = oauth.get("oauth_token", "")
        with self._lock:
            found = self.request_tokens.get(token)
            verifier = self.verifiers.get(token)
        if found is None or verifier is None:
            return oauth_problem("token_rejected")
        if oauth.get("oauth_verifier") != verifier:
            return oauth_problem("verifier_invalid")
        if not self._signed(recorded, form, found[0]):
            return oauth_problem("signature_invalid")
        with self._lock:
            self.request_tokens.pop(token, None)  # single use
            self.verifiers.pop(token, None)
            serial = len(self.access_tokens_issued) + 1
            access, secret = f"72157720000{serial:03d}-accesstoken", f"acc{serial:03d}secret"
            self.tokens[access] = secret
            self.access_tokens_issued.append((access, secret))
        body = urlencode(
            {
                "fullname": "Cadence Comms",
                "oauth_token": access,
                "oauth_token_secret": secret,
                "user_nsid": self.user_nsid,
                "username": self.username,
            }
        )
        return text_answer(200, body)

    def _check_oauth(self, recorded: RecordedRequest, form: Form) -> Answer | None:
        header = recorded.header("authorization") or ""
        if not header.startswith("OAuth "):
            return flickr_error(97)
        try:
            oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        except (ValueError, IndexError):
            return oauth_problem("parameter_rejected")
        required = (
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature_method",
            "oauth_signature",
            "oauth_timestamp",
            "oauth_nonce",
        )
        absent = [name for name in required if not oauth.get(name)]
        if absent:
            return oauth_problem("parameter_absent", oauth_parameters_absent="&".join(absent))
        if oauth["oauth_signature_method"] != "HMAC-SHA1":
            return oauth_problem("signature_method_rejected")
        consumer_secret = self.consumers.get(oauth["oauth_consumer_key"])
        if consumer_secret is None:
            return oauth_problem("consumer_key_unknown")
        token_secret = self.tokens.get(oauth["oauth_token"])
        if token_secret is None:
            return oauth_problem("token_rejected")
        nonce = (oauth["oauth_timestamp"], oauth["oauth_nonce"])
        if nonce in self._nonces:
            return oauth_problem("nonce_used")
        # Every parameter but `photo`: the query, the OAuth header's, the text fields.
        params = signature.collect_parameters(
            uri_query=recorded.query,
            body=form.body_fields,
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        uri = f"http://{recorded.header('host')}{recorded.path}"
        request = SimpleNamespace(
            http_method=recorded.method,
            uri=uri,
            params=params,
            signature=oauth["oauth_signature"],
        )
        self.signatures_checked += 1
        if not signature.verify_hmac_sha1(request, consumer_secret, token_secret):
            base = signature.signature_base_string(
                recorded.method,
                signature.base_string_uri(uri),
                signature.normalize_parameters(params),
            )
            return oauth_problem("signature_invalid", debug_sbs=base)
        self._nonces.add(nonce)
        return None

    def _upload(self, form: Form) -> Answer:
        photo = form.file("photo")
        if photo is None:
            return flickr_error(2)
        if not photo.data:
            return flickr_error(4)
        if image_kind(photo.data) is None and not is_mp4(photo.data):
            return flickr_error(5)
        uploaded = UploadedPhoto(
            id=str(next(self._ids)),
            fields={k: v for k, v in form.fields},
            filename=photo.filename,
            content_type=photo.content_type,
            data=photo.data,
        )
        self._next = int(uploaded.id) + 1
        self.photos.append(uploaded)
        return flickr_ok(uploaded.id)

    def _rest(self, form: Form) -> Answer:
        method = form.get("method")
        as_json = form.get("format") == "json"
        if method in ("flickr.photos.getInfo", "flickr.photos.getFavorites"):
            return self._photo_figures(method, form, as_json)
        if method != "flickr.test.login":
            return self._rest_error(112, f'Method "{method}" not found', as_json)
        if as_json:
            user = {
                "id": self.user_nsid,
                "username": {"_content": self.username},
                "path_alias": None,
            }
            body = json.dumps({"user": user, "stat": "ok"})
            if form.get("nojsoncallback") != "1":
                body = f"jsonFlickrApi({body})"
            return Answer(200, body.encode(), {"Content-Type": "application/json"})
        inner = (
            f'<user id="{escape(self.user_nsid)}">\n'
            f"\t<username>{escape(self.username)}</username>\n</user>"
        )
        return _xml(inner, "ok")

    def _photo_figures(self, method: str, form: Form, as_json: bool) -> Answer:
        """flickr.photos.getInfo (`views`, `comments`) and flickr.photos.getFavorites
        (`total`), JSON only here; an unknown or deleted photo is error 1."""
        photo_id = form.get("photo_id") or ""
        known = {p.id for p in self.photos} | set(self.figures)
        if photo_id not in known or photo_id in self.deleted:
            return self._rest_error(1, "Photo not found", as_json)
        if not as_json:
            return self._rest_error(111, "Format not found", as_json)
        figures = self.figures.get(photo_id, {})
        if method == "flickr.photos.getInfo":
            photo: dict[str, Any] = {
                "id": photo_id,
                "owner": {"nsid": self.user_nsid},
                "views": str(figures.get("views", 0)),
                "comments": {"_content": str(figures.get("comments", 0))},
            }
        else:
            total = figures.get("faves", 0)
            photo = {"id": photo_id, "page": 1, "pages": 1, "perpage": 1, "total": total}
            photo["person"] = []
        body = json.dumps({"photo": photo, "stat": "ok"})
        return Answer(200, body.encode(), {"Content-Type": "application/json"})

    def _rest_error(self, code: int, message: str, as_json: bool) -> Answer:
        if as_json:
            body = json.dumps({"stat": "fail", "code": code, "message": message})
            return Answer(200, body.encode(), {"Content-Type": "application/json"})
        return flickr_error(code, message)
