"""A fake Facebook Graph API for one Page: a real HTTP server on 127.0.0.1.

It serves what the Facebook connector uses, with Graph's shapes:

- `GET /{version}/{page-id}?fields=name` -> `{"name", "id"}`;
- `POST /{version}/{page-id}/feed` (form-encoded `message`, `link`, `published`,
  `attached_media[i]={"media_fbid": id}`) -> `{"id": "{page-id}_{post-id}"}`;
- `POST /{version}/{page-id}/photos` (multipart `source`, or `url`; `caption`,
  `published`) -> `{"id": photo-id, "post_id": "{page-id}_{post-id}"}`, or just
  `{"id"}` for an unpublished photo;
- `POST /{version}/{post-id}/comments` (form-encoded `message`) -> `{"id":
  "{post-suffix}_{comment-id}"}`, on a post of this Page (else 100/33);
- `POST /{version}/{page-id}/videos` (multipart `source`, `description`, `title`) ->
  `{"id": video-id}` (graph-video.facebook.com in production; one host here).

Like Graph it checks the `access_token` (missing: code 104; unknown: 190; revoked:
190/460), the Page id (100/33), required fields (100 "Missing message or
attachment", 324 for a missing or non-image photo, 352 for a non-MP4 video), that each
`attached_media` entry is an unpublished photo of this Page not yet used, and refuses
the same message posted twice in a row (506). Errors are Graph's JSON
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", ...}}` (HTTP 400,
or 500 for codes 1 and 2), and every answer carries `X-Business-Use-Case-Usage`.

A test scripts the next answers with `answer_next(...)` (any `Answer` of
tests.fakes.sinks, e.g. `graph_error(...)`, `rate_limited(...)`, `hang(...)`, `drop()`);
scripted answers are given before any check, as a platform's failure would be.
Everything it accepted is in `photos`, `posts`, `comments` and `videos`; every request in
`requests`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fakes.forms import Form, FormError, image_kind, is_mp4, read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.sinks import Answer, RecordedRequest, SinkBacked, SinkServer, json_answer

PAGE_ID = "104857600012345"
PAGE_NAME = "Cadence Community Kitchen"
PAGE_TOKEN = "EAAGm0PX4ZCpsBAPageTokenQx7Lk2Zd9F"
# The app of Facebook Login (the Connect flow).
APP_ID = "1234567890123456"
APP_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
LOGIN_VERSION = "v24.0"
LONG_LIVED_SECONDS = 5_183_944  # about 60 days, as Graph answers
MAX_MESSAGE = 63_206
FBTRACE_ID = "AbC1dEfGh2I"

# Graph's words for the errors a test can ask for (codes from the Graph API's error
# handling and rate limiting guides; messages as Graph writes them).
MESSAGES: dict[int, str] = {
    1: "An unknown error has occurred.",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    10: "(#10) Application does not have permission for this action",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    100: "(#100) Invalid parameter",
    190: "Error validating access token: The session has been invalidated because the user "
    "changed their password or Facebook has changed the session for security reasons.",
    200: "(#200) If posting to a page, requires both pages_read_engagement and "
    "pages_manage_posts as an admin with sufficient administrative permission",
    368: "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
    506: "(#506) Duplicate status message",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "There have been too many calls to this Page account. Wait a bit and try again. "
    "For more info, please refer to "
    "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
}
SUBCODES: dict[int, int] = {190: 460}
TRANSIENT = frozenset({1, 2, 4, 17, 32, 613, 80001})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001})
USER_FACING: dict[int, tuple[str, str]] = {
    506: (
        "Duplicate Status Update",
        "This status update is identical to the last one you posted. Try posting something "
        "different, or delete your previous update.",
    ),
}


def graph_error(
    code: int,
    message: str | None = None,
    *,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Graph's error answer for `code` (its usual message, subcode and HTTP status)."""
    error: dict[str, Any] = {
        "message": message or MESSAGES.get(code, f"(#{code}) Error"),
        "type": error_type,
        "code": code,
    }
    subcode = subcode if subcode is not None else SUBCODES.get(code)
    if subcode is not None:
        error["error_subcode"] = subcode
    if code in TRANSIENT:
        error["is_transient"] = True
    if code in USER_FACING:
        error["error_user_title"], error["error_user_msg"] = USER_FACING[code]
    error["fbtrace_id"] = FBTRACE_ID
    extra = dict(headers or {})
    if code in (102, 190):
        extra.setdefault(
            "WWW-Authenticate", f'OAuth "Facebook Platform" "invalid_token" "{error["message"]}"'
        )
    return json_answer(
        status or (500 if code in (1, 2) else 400),
        {"error": error},
        {"Content-Type": "application/json; charset=UTF-8", **extra},
    )


def usage_header(
    page_id: str, call_count: int, *, regain_minutes: int = 0, kind: str = "pages"
) -> str:
    """`X-Business-Use-Case-Usage`: {"<page-id>": [{"type", "call_count", ...}]} (%, minutes)."""
    return json.dumps(
        {
            page_id: [
                {
                    "type": kind,
                    "call_count": call_count,
                    "total_cputime": max(1, call_count // 4),
                    "total_time": max(1, call_count // 3),
                    "estimated_time_to_regain_access": regain_minutes,
                }
            ]
        },
        separators=(",", ":"),
    )


def rate_limited(
    code: int = 80001,
    *,
    page_id: str = PAGE_ID,
    regain_minutes: int | None = 12,
    usage: int = 103,
    retry_after: str | None = None,
    app_usage: int | None = None,
) -> Answer:
    """A throttled call: the Graph error plus the usage headers that come with it.

    `regain_minutes=None` leaves out the BUC header (Platform limits); `app_usage` adds
    `X-App-Usage`. Graph documents no `Retry-After`; `retry_after` adds one anyway, for
    the contract suite's generic rate-limit cases.
    """
    headers: dict[str, str] = {}
    if regain_minutes is not None:
        headers["X-Business-Use-Case-Usage"] = usage_header(
            page_id, usage, regain_minutes=regain_minutes
        )
    if app_usage is not None:
        headers["X-App-Usage"] = json.dumps(
            {"call_count": app_usage, "total_cputime": 10, "total_time": 12}
        )
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return graph_error(code, headers=headers)


# -- what the Page holds -------------------------------------------------------------


@dataclass
class Photo:
    id: str
    caption: str | None
    published: bool
    filename: str | None
    content_type: str | None
    data: bytes
    post_id: str | None = None  # the story it appears in: its own, or a feed post's


@dataclass
class Post:
    id: str
    message: str
    link: str | None = None
    attached_media: list[str] = field(default_factory=list)  # photo ids, in order
    kind: str = "status"  # status, link, photo, album


@dataclass
class Comment:
    id: str  # "{post-suffix}_{comment}", as Graph gives it
    post_id: str
    message: str


@dataclass
class Video:
    id: str
    description: str | None
    title: str | None
    filename: str | None
    content_type: str | None
    data: bytes


_PATH = re.compile(r"/(v\d+\.\d+)/([^/]+)(?:/([a-z_]+))?/?")
_ATTACHED = re.compile(r"attached_media\[(\d+)\]")


class FakeFacebook(SinkBacked):
    def __init__(
        self,
        *,
        page_id: str = PAGE_ID,
        page_name: str = PAGE_NAME,
        token: str = PAGE_TOKEN,
    ) -> None:
        self.page_id = page_id
        self.page_name = page_name
        self.tokens = {token}
        self.revoked: set[str] = set()
        self.sink = SinkServer()
        self.photos: dict[str, Photo] = {}
        self.posts: list[Post] = []
        self.comments: list[Comment] = []
        self.videos: list[Video] = []
        self.versions: list[str] = []  # the API version of each Graph call, in order
        self.calls = 0
        self._ids = itertools.count(1_000_000_000_001)
        self._next: int = 1_000_000_000_001
        self._scripted: deque[Answer] = deque()
        self._lock = threading.Lock()
        # Facebook Login: the dialog (www.facebook.com), the code and long-lived
        # exchanges and /me/accounts (graph.facebook.com).
        self.apps = {APP_ID: APP_SECRET}
        self.authorization = AuthorizationServer(
            clients=self.apps,
            authorize_path=f"/{LOGIN_VERSION}/dialog/oauth",
            name="Facebook",
            pkce=False,
            code_prefix="AQD",
        )
        self.user_tokens: dict[str, str] = {}  # token -> "short" or "long"
        # Post nodes' figures by post id ("{page}_{post}"); deleted ids answer 100/33.
        self.engagement: dict[str, dict[str, int]] = {}
        self.deleted: set[str] = set()
        self.sink.answer_with(self._handle)

    # -- life ------------------------------------------------------------------------

    # -- telling it what to do ---------------------------------------------------------

    def answer_next(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order, before any check."""
        with self._lock:
            self._scripted.extend(answers)

    def revoke(self, token: str = PAGE_TOKEN) -> None:
        """The token stops working (password changed, app removed): code 190/460."""
        self.revoked.add(token)

    def upcoming_ids(self, count: int) -> list[str]:
        """The next `count` object ids the fake will hand out."""
        return [str(self._next + i) for i in range(count)]

    # -- serving ---------------------------------------------------------------------

    def _new_id(self) -> str:
        value = next(self._ids)
        self._next = value + 1
        return str(value)

    def _handle(self, recorded: RecordedRequest) -> Answer:
        if self.authorization.handles(recorded):
            return self.authorization.handle(recorded)
        login = self._login(recorded)
        if login is not None:
            return login
        with self._lock:
            self.calls += 1
            calls = self.calls
            scripted = self._scripted.popleft() if self._scripted else None
        answer = scripted if scripted is not None else self._serve(recorded)
        if answer.drop or "X-Business-Use-Case-Usage" in answer.headers:
            return answer
        usage = usage_header(self.page_id, min(calls, 99))
        return replace(answer, headers={**answer.headers, "X-Business-Use-Case-Usage": usage})

    def _login(self, recorded: RecordedRequest) -> Answer | None:
        """`GET /{v}/oauth/access_token` (the code, or `fb_exchange_token`) and
        `GET /{v}/me/accounts`; None for any other request."""
        match = _PATH.fullmatch(recorded.path)
        if match is None or recorded.method != "GET":
            return None
        _version, node, edge = match.groups()
        form = read_form(recorded)
        if (node, edge) == ("oauth", "access_token"):
            if self.apps.get(form.get("client_id") or "") != form.get("client_secret"):
                return graph_error(101, "Error validating application. Invalid application ID.")
            if form.get("grant_type") == "fb_exchange_token":
                if self.user_tokens.get(form.get("fb_exchange_token") or "") is None:
                    return graph_error(
                        190, "Invalid OAuth access token - Cannot parse access token"
                    )
                return self._user_token("long", LONG_LIVED_SECONDS)
            grant = self.authorization.redeem(form, form.get("client_id") or "")
            if isinstance(grant, Refusal):
                return graph_error(100, "Invalid verification code format.", subcode=36007)
            return self._user_token("short", 5_400)
        if (node, edge) == ("me", "accounts"):
            if self.user_tokens.get(form.get("access_token") or "") is None:
                return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
            page = {
                "access_token": next(iter(self.tokens)),
                "category": "Community",
                "category_list": [{"id": "2612", "name": "Community"}],
                "name": self.page_name,
                "id": self.page_id,
                "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE"],
            }
            return json_answer(
                200, {"data": [page], "paging": {"cursors": {"before": "b", "after": "a"}}}
            )
        return None

    def _user_token(self, kind: str, seconds: int) -> Answer:
        with self._lock:
            token = f"EAAGm0PX4ZCps{kind.upper()}{len(self.user_tokens) + 1:04d}"
            self.user_tokens[token] = kind
        return json_answer(
            200, {"access_token": token, "token_type": "bearer", "expires_in": seconds}
        )

    def _post_node(self, node: str) -> Answer | None:
        """`GET /{post-id}?fields=reactions.summary(total_count).limit(0),comments.summary(
        total_count).limit(0),shares`: the Page post's figures (None: no such post)."""
        known = {p.id for p in self.posts} | set(self.engagement)
        if node not in known or node in self.deleted:
            return None
        figures = self.engagement.get(node, {})
        body: dict[str, Any] = {
            "reactions": {"data": [], "summary": {"total_count": figures.get("reactions", 0)}},
            "comments": {
                "data": [],
                "summary": {
                    "order": "ranked",
                    "total_count": figures.get("comments", 0),
                    "can_comment": True,
                },
            },
            "id": node,
        }
        if figures.get("shares"):
            body["shares"] = {"count": figures["shares"]}
        return json_answer(200, body)

    def _serve(self, recorded: RecordedRequest) -> Answer:
        match = _PATH.fullmatch(recorded.path)
        if match is None:
            return graph_error(2500, f"Unknown path components: {recorded.path}")
        version, node, edge = match.groups()
        self.versions.append(version)
        try:
            form = read_form(recorded)
        except FormError as exc:
            return graph_error(100, f"(#100) The request body could not be read: {exc}")
        token = form.get("access_token") or _header_token(recorded.header("authorization"))
        if not token:
            return graph_error(104, "An access token is required to request this resource.")
        if token in self.revoked:
            return graph_error(190)
        if token not in self.tokens:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        if recorded.method == "GET" and edge is None and node != self.page_id:
            figures = self._post_node(node)
            if figures is not None:
                return figures
        if (recorded.method, edge) == ("POST", "comments") and node != self.page_id:
            return self._comment(node, form)
        if node != self.page_id:
            return graph_error(
                100,
                f"Unsupported {recorded.method.lower()} request. Object with ID '{node}' does "
                "not exist, cannot be loaded due to missing permissions, or does not support "
                "this operation. Please read the Graph API documentation at "
                "https://developers.facebook.com/docs/graph-api",
                subcode=33,
                error_type="GraphMethodException",
            )
        route = (recorded.method, edge)
        if route == ("GET", None):
            return json_answer(200, {"name": self.page_name, "id": self.page_id})
        if route == ("POST", "feed"):
            return self._feed(form)
        if route == ("POST", "photos"):
            return self._photo(form)
        if route == ("POST", "videos"):
            return self._video(form)
        return graph_error(100, f"(#100) Unsupported {recorded.method} request to /{edge or ''}")

    def _comment(self, node: str, form: Form) -> Answer:
        """`POST /{post-id}/comments`: a comment as the Page on one of its posts."""
        post = next((p for p in self.posts if p.id == node), None)
        if post is None:
            return graph_error(
                100,
                f"Unsupported post request. Object with ID '{node}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation.",
                subcode=33,
                error_type="GraphMethodException",
            )
        message = form.get("message") or ""
        if not message.strip():
            return graph_error(100, "(#100) Missing message or attachment")
        comment_id = f"{node.split('_')[-1]}_{self._new_id()}"
        self.comments.append(Comment(id=comment_id, post_id=node, message=message))
        return json_answer(200, {"id": comment_id})

    def _feed(self, form: Form) -> Answer:
        message = form.get("message") or ""
        link = form.get("link") or None
        slots = sorted(
            (int(m.group(1)), value)
            for key, value in form.fields
            if (m := _ATTACHED.fullmatch(key)) is not None
        )
        if not message.strip() and not link and not slots:
            return graph_error(100, "(#100) Missing message or attachment")
        if len(message) > MAX_MESSAGE:
            return graph_error(100, f"(#100) Param message must be at most {MAX_MESSAGE} chars")
        media: list[str] = []
        for index, raw in slots:
            try:
                fbid = str(json.loads(raw)["media_fbid"])
            except (ValueError, KeyError, TypeError):
                return graph_error(100, f"(#100) param attached_media[{index}] must be an object")
            photo = self.photos.get(fbid)
            if photo is None or photo.published or photo.post_id is not None or fbid in media:
                return graph_error(
                    100, f"(#100) attached_media[{index}]: {fbid} is not an unpublished photo"
                )
            media.append(fbid)
        last = self.posts[-1] if self.posts else None
        if (
            last is not None
            and message.strip()
            and last.message == message
            and last.link == link
            and not media
        ):
            return graph_error(506)
        post = Post(
            id=f"{self.page_id}_{self._new_id()}",
            message=message,
            link=link,
            attached_media=media,
            kind="album" if media else "link" if link else "status",
        )
        for fbid in media:
            self.photos[fbid].post_id = post.id
        self.posts.append(post)
        return json_answer(200, {"id": post.id})

    def _photo(self, form: Form) -> Answer:
        source = form.file("source")
        if source is None and not form.get("url"):
            return graph_error(324, "(#324) Requires upload file")
        if source is not None and image_kind(source.data) is None:
            return graph_error(324, "(#324) Missing or invalid image file")
        published = (form.get("published") or "true").lower() not in ("false", "0")
        photo = Photo(
            id=self._new_id(),
            caption=form.get("caption"),
            published=published,
            filename=source.filename if source else None,
            content_type=source.content_type if source else None,
            data=source.data if source else b"",
        )
        self.photos[photo.id] = photo
        if not published:
            return json_answer(200, {"id": photo.id})
        post = Post(
            id=f"{self.page_id}_{self._new_id()}",
            message=photo.caption or "",
            attached_media=[photo.id],
            kind="photo",
        )
        photo.post_id = post.id
        self.posts.append(post)
        return json_answer(200, {"id": photo.id, "post_id": post.id})

    def _video(self, form: Form) -> Answer:
        source = form.file("source")
        if source is None and not form.get("file_url"):
            return graph_error(100, "(#100) No file data was uploaded")
        if source is not None and not is_mp4(source.data):
            return graph_error(
                352,
                "(#352) Sorry, the video file you selected is in a format that we don't support.",
            )
        video = Video(
            id=self._new_id(),
            description=form.get("description"),
            title=form.get("title"),
            filename=source.filename if source else None,
            content_type=source.content_type if source else None,
            data=source.data if source else b"",
        )
        self.videos.append(video)
        return json_answer(200, {"id": video.id})


def _header_token(value: str | None) -> str | None:
    """Graph also takes the token as `Authorization: OAuth <token>` (or Bearer)."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() in ("oauth", "bearer") else None
