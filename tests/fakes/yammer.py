"""A fake Yammer (Viva Engage) REST API, v1: a real HTTP server on 127.0.0.1.

It runs on tests.fakes.sinks.SinkServer (aiohttp in a background thread) and answers
what Yammer answers:

- every call needs `Authorization: Bearer <token>`; a missing, malformed, unknown or
  revoked token gets 401 `{"response": {"message": "Token not found.", "code": 16,
  "stat": "fail"}}` (the body Microsoft's reference shows);
- `POST /api/v1/messages.json` takes a form-encoded body (not JSON): `body` must not
  be blank (400 `{"error": {"body": ["Please include a message"], "code":
  "body_blank"}}`), `group_id` must name a group the user can post to (404 otherwise),
  topics are `topic1`..`topic20` without gaps; success is the new message wrapped as a
  feed, `{"messages": [{...}], "references": [], "meta": {}}`, with the fields
  `cli-microsoft365`'s documented answer shows (`id`, `url`, `web_url`, `thread_id`,
  `group_id`, `body`...);
- `GET /api/v1/users/current.json` is the token's user;
- anything else is 404.

A test can queue any answer for the next requests (`answer(...)`), using the helpers
below for Yammer's documented errors (`unauthorized`, `oauth_exception`,
`group_not_found`, `body_blank`, `rate_limited` with or without Retry-After,
`server_error`) or the sink's `hang`/`drop`; `revoke()` makes the token stop working.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.forms import read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.sinks import (
    Answer,
    RecordedRequest,
    SinkBacked,
    SinkServer,
    json_answer,
    text_answer,
)

TOKEN = "yam-Access-Token-8c1f2e9d"
TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
CLIENT_SECRET = "qWg8Q~cadence-yammer-secret"
GROUP_ID = "31158067201"
NETWORK_ID = 5897756673
NETWORK_PERMALINK = "contoso.onmicrosoft.com"
USER_ID = 36425097217
FIRST_MESSAGE_ID = 2000337346863105
MAX_TOPICS = 20
MESSAGE_PATH = re.compile(r"/api/v1/messages/(\d{1,20})\.json")

# -- Yammer's answers ------------------------------------------------------------------


def unauthorized() -> Answer:
    return json_answer(
        401, {"response": {"message": "Token not found.", "code": 16, "stat": "fail"}}
    )


def oauth_exception() -> Answer:
    # Only "OAuthException" somewhere in a 400's body is documented (Yammer's client
    # library tests for that substring); the rest of this body is illustrative.
    return json_answer(
        400, {"error": {"type": "OAuthException", "message": "Invalid OAuth access token."}}
    )


def group_not_found() -> Answer:
    return json_answer(404, {"response": {"message": "Group not found", "stat": "fail"}})


def body_blank() -> Answer:
    return json_answer(400, {"error": {"body": ["Please include a message"], "code": "body_blank"}})


def rate_limited(retry_after: str | int | None = None) -> Answer:
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return json_answer(
        429, {"response": {"message": "Rate limited due to excessive requests."}}, headers
    )


def server_error(status: int = 503) -> Answer:
    return text_answer(status, "Service Unavailable")


# -- the fake ----------------------------------------------------------------------------


@dataclass
class PostedMessage:
    id: int
    form: dict[str, str]

    @property
    def topics(self) -> list[str]:
        return [
            self.form[f"topic{n}"] for n in range(1, MAX_TOPICS + 1) if f"topic{n}" in self.form
        ]


@dataclass
class YammerFake(SinkBacked):
    token: str = TOKEN
    groups: set[str] = field(default_factory=lambda: {GROUP_ID})
    sink: SinkServer = field(default_factory=SinkServer)
    messages: list[PostedMessage] = field(default_factory=list)
    revoked: bool = False
    # Microsoft identity platform v2 for the tenant (the Connect flow): the app, the
    # tokens it issued, the live refresh tokens (rotated: a used one is refused).
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    issued: list[tuple[str, str]] = field(default_factory=list)
    refresh_tokens: set[str] = field(default_factory=set)
    expired: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._queued: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._next_id = FIRST_MESSAGE_ID
        self.authorization = AuthorizationServer(
            clients=self.clients,
            authorize_path=f"/{TENANT}/oauth2/v2.0/authorize",
            name="Microsoft",
            pkce=True,
            code_prefix="0.AXoA",
        )
        # GET /api/v1/messages/{id}.json: likes and thread updates by message id.
        self.likes: dict[str, int] = {}
        self.thread_updates: dict[str, int] = {}
        self.deleted: set[str] = set()
        self.sink.answer_with(self._handle)

    # -- life --------------------------------------------------------------------------

    # -- telling it what to answer -----------------------------------------------------

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order, whatever they ask."""
        with self._lock:
            self._queued.extend(answers)

    def revoke(self) -> None:
        """The token stops working (revoked by the user or an admin)."""
        self.revoked = True

    def next_message_id(self) -> int:
        return self._next_id

    @staticmethod
    def web_url(message_id: int) -> str:
        return f"https://www.yammer.com/{NETWORK_PERMALINK}/messages/{message_id}"

    # -- serving -------------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Answer:
        with self._lock:
            if self._queued:
                return self._queued.popleft()
        if self.authorization.handles(request):
            return self.authorization.handle(request)
        if request.method == "POST" and request.path == f"/{TENANT}/oauth2/v2.0/token":
            return self._token(request)
        auth = request.header("authorization") or ""
        scheme, _, credential = auth.partition(" ")
        live = (credential == self.token or credential in {a for a, _ in self.issued}) and (
            credential not in self.expired
        )
        if scheme.lower() != "bearer" or not live or self.revoked:
            return unauthorized()
        if request.method == "GET" and request.path == "/api/v1/groups.json":
            return json_answer(
                200,
                [
                    {
                        "type": "group",
                        "id": int(g),
                        "full_name": f"Comms {g}",
                        "name": f"comms{g}",
                        "network_id": NETWORK_ID,
                        "privacy": "public",
                        "state": "active",
                    }
                    for g in sorted(self.groups)
                ],
            )
        if request.method == "POST" and request.path == "/api/v1/messages.json":
            return self._post_message(request)
        if request.method == "GET" and request.path == "/api/v1/users/current.json":
            return json_answer(200, self._current_user())
        message = MESSAGE_PATH.fullmatch(request.path)
        if request.method == "GET" and message is not None:
            return self._get_message(message.group(1))
        return json_answer(404, {"response": {"message": "Not found", "stat": "fail"}})

    def _token(self, request: RecordedRequest) -> Answer:
        """`POST /{tenant}/oauth2/v2.0/token`: the code (with PKCE) or a refresh token,
        client credentials in the form; errors as Entra's `{"error", "error_description"}`."""
        form = read_form(request)
        if self.clients.get(form.get("client_id") or "") != form.get("client_secret"):
            return json_answer(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
            )
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                grant = self.authorization.redeem(form, form.get("client_id") or "")
                if isinstance(grant, Refusal):
                    return json_answer(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": f"AADSTS70000: {grant.description}",
                        },
                    )
            elif grant_type == "refresh_token":
                old = form.get("refresh_token") or ""
                if old not in self.refresh_tokens:
                    return json_answer(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "AADSTS70000: The provided grant has expired or been revoked.",
                        },
                    )
                self.refresh_tokens.discard(old)
            else:
                return json_answer(
                    400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"}
                )
            serial = len(self.issued) + 1
            access, refresh = f"eyJ0eXAiOiJKV1Qi.yammer.{serial}", f"0.AXoA-refresh-{serial}"
            self.issued.append((access, refresh))
            self.refresh_tokens.add(refresh)
        return json_answer(
            200,
            {
                "token_type": "Bearer",
                "scope": "https://www.yammer.com/.default",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": access,
                "refresh_token": refresh,
            },
        )

    def _get_message(self, message_id: str) -> Answer:
        known = {str(m.id) for m in self.messages} | set(self.likes)
        if message_id not in known or message_id in self.deleted:
            return json_answer(404, {"response": {"message": "Not found", "stat": "fail"}})
        likes = self.likes.get(message_id, 0)
        return json_answer(
            200,
            {
                "id": int(message_id),
                "thread_id": int(message_id),
                "group_id": int(next(iter(self.groups))),
                "web_url": self.web_url(int(message_id)),
                "body": {"plain": ""},
                "liked_by": {"count": likes, "names": []},
                "stats": {"updates": self.thread_updates.get(message_id, 1)},
            },
        )

    def _post_message(self, request: RecordedRequest) -> Answer:
        content_type = (request.header("content-type") or "").split(";")[0].strip()
        if content_type != "application/x-www-form-urlencoded":
            # Yammer reads form fields; a JSON body leaves `body` empty.
            return body_blank()
        parsed = parse_qs(request.text, keep_blank_values=True, strict_parsing=False)
        if any(len(values) > 1 for values in parsed.values()):
            return json_answer(400, {"error": {"base": ["Repeated parameter"], "code": "invalid"}})
        form = {key: values[0] for key, values in parsed.items()}
        if not form.get("body", "").strip():
            return body_blank()
        group_id = form.get("group_id", "")
        if group_id not in self.groups:
            return group_not_found()
        numbers = sorted(int(k[5:]) for k in form if k.startswith("topic") and k[5:].isdigit())
        if numbers != list(range(1, len(numbers) + 1)) or len(numbers) > MAX_TOPICS:
            return json_answer(
                400, {"error": {"topics": ["Topics must be topic1..topic20"], "code": "invalid"}}
            )
        with self._lock:
            message_id = self._next_id
            self._next_id += 1
            self.messages.append(PostedMessage(message_id, form))
        return json_answer(
            201, {"messages": [self._message(message_id, form)], "references": [], "meta": {}}
        )

    def _message(self, message_id: int, form: dict[str, str]) -> dict[str, Any]:
        text = form["body"]
        return {
            "id": message_id,
            "sender_id": USER_ID,
            "delegate_id": None,
            "replied_to_id": None,
            "created_at": "2026/11/23 09:00:00 +0000",
            "network_id": NETWORK_ID,
            "message_type": "update",
            "sender_type": "user",
            "url": f"https://www.yammer.com/api/v1/messages/{message_id}",
            "web_url": self.web_url(message_id),
            "group_id": int(form["group_id"]),
            "body": {"parsed": text, "plain": text, "rich": text},
            "thread_id": message_id,
            "client_type": "O365 Api Auth",
            "client_url": "https://api.yammer.com",
            "system_message": False,
            "direct_message": False,
            "privacy": "public",
            "attachments": [],
            "liked_by": {"count": 0, "names": []},
            "supplemental_reply": False,
            "content_excerpt": text[:200],
            "group_created_id": int(form["group_id"]),
        }

    def _current_user(self) -> dict[str, Any]:
        return {
            "type": "user",
            "id": USER_ID,
            "network_id": NETWORK_ID,
            "state": "active",
            "full_name": "Comms Team",
            "email": "comms@contoso.onmicrosoft.com",
            "network_name": "Contoso",
            "web_url": f"https://www.yammer.com/{NETWORK_PERMALINK}/users/{USER_ID}",
        }
