"""A fake Mastodon instance: a real HTTP server on 127.0.0.1 answering as Mastodon's
REST API does (docs.joinmastodon.org/methods/statuses, /methods/media,
/methods/instance, /methods/accounts).

- Every authenticated call needs `Authorization: Bearer <token>`; an unknown or
  revoked token gets 401 `{"error": "The access token is invalid"}`; a token without
  the write scope gets 403 `{"error": "This action is outside the authorized scopes"}`.
- `POST /api/v2/media` (multipart `file`): 200 with the MediaAttachment when it is
  processed at once (images), 202 with `url: null` when it is not (videos, or every
  file after `process_slowly()`); `GET /api/v1/media/{id}` answers 206 until it has
  been asked `polls_needed` times, then 200.
- `POST /api/v1/statuses` (JSON or form): `status` required unless `media_ids`;
  the instance's limit counted as Mastodon counts (via connectors.mastodon's counter:
  the fake's check is the one under test elsewhere); at most 4 media; 422
  `{"error": "Validation failed: ..."}` otherwise. The same `Idempotency-Key` within
  the hour answers the status already made (no second status).
- `GET /api/v1/accounts/verify_credentials`, `GET /api/v2/instance` (no token needed).
- `GET /api/v1/statuses/{id}` (docs.joinmastodon.org/methods/statuses/#get): the
  Status with `favourites_count`, `reblogs_count`, `replies_count` (the figures set in
  `counts`, else zeros for a status this fake made); an unknown or deleted id answers
  404 `{"error": "Record not found"}`. `rate_limit_read = n`: the n-th read answers
  429 with `Retry-After: 120`.
- The Connect flow (docs.joinmastodon.org/methods/apps, /methods/oauth): `POST
  /api/v1/apps` (`client_name`, `redirect_uris`, `scopes`, `website`) registers a
  client -> `{"id", "name", "client_id", "client_secret", "redirect_uri", ...}`;
  `GET /oauth/authorize` is the consent page (tests.fakes.oauth, no PKCE);
  `POST /oauth/token` (client id and secret in the form) redeems a code ->
  `{"access_token", "token_type": "Bearer", "scope", "created_at"}`; Mastodon's tokens
  do not expire.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from connectors.mastodon import mastodon_length
from tests.fakes.forms import FormError, read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.scripted import Handler, ScriptedFake
from tests.fakes.sinks import Answer, RecordedRequest, json_answer, text_answer

TOKEN = "mast-Access-Token-5f2c9e1b7a"
READ_ONLY_TOKEN = "mast-Read-Only-Token-1a2b3c"
USERNAME = "kitchen"
ACCOUNT_ID = "109348217764218422"
DOMAIN = "social.example"
VISIBILITIES = frozenset({"public", "unlisted", "private", "direct"})


def mastodon_error(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    return json_answer(status, {"error": message}, headers)


def invalid_token() -> Answer:
    return mastodon_error(401, "The access token is invalid")


def too_many_requests(retry_after: str | None = None, reset: str | None = None) -> Answer:
    headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"}
    if reset is not None:
        headers["X-RateLimit-Reset"] = reset
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return mastodon_error(429, "Too many requests", headers)


def unavailable() -> Answer:
    return text_answer(503, "<html><body>Mastodon is down for maintenance</body></html>")


@dataclass
class Status:
    id: str
    params: dict[str, Any]
    idempotency_key: str | None

    @property
    def url(self) -> str:
        return f"https://{DOMAIN}/@{USERNAME}/{self.id}"


@dataclass
class FakeMastodon(ScriptedFake):
    max_characters: int = 500
    tokens: dict[str, str] = field(
        default_factory=lambda: {TOKEN: "read write", READ_ONLY_TOKEN: "read"}
    )
    statuses: list[Status] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    slow_media: bool = False
    polls_needed: int = 1
    # status id -> {"favourites_count": n, "reblogs_count": n, "replies_count": n}
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    status_reads: int = 0
    rate_limit_read: int | None = None  # this status read (1-based) answers 429 once
    # The Connect flow: clients registered through /api/v1/apps (id -> secret).
    clients: dict[str, str] = field(default_factory=dict)
    registrations: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.authorization = AuthorizationServer(
            clients=self.clients, authorize_path="/oauth/authorize", name="Mastodon", pkce=False
        )
        super().__post_init__()
        self._next = 110_000_000_000_000_001
        self._polls: dict[str, int] = {}

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        return {
            ("POST", "/api/v1/statuses"): ("statuses", self._status),
            ("POST", "/api/v2/media"): ("media", self._upload),
            ("GET", r"/api/v1/media/(\w+)"): ("media_status", self._media_status),
            ("GET", "/api/v1/accounts/verify_credentials"): ("verify", self._verify),
            ("GET", "/api/v2/instance"): ("instance", self._instance),
            ("GET", r"/api/v1/statuses/([0-9]+)"): ("status", self._get_status),
            ("POST", "/api/v1/apps"): ("apps", self._register),
            ("GET", "/oauth/authorize"): ("authorize", self._authorize),
            ("POST", "/oauth/authorize/decide"): ("authorize", self._authorize),
            ("POST", "/oauth/token"): ("token", self._token),
        }

    def not_found(self, request: RecordedRequest) -> Answer:
        return mastodon_error(404, "Record not found")

    # -- scripting -------------------------------------------------------------------

    def revoke(self, token: str = TOKEN) -> None:
        self.tokens.pop(token, None)

    def process_slowly(self, polls: int = 2) -> None:
        self.slow_media, self.polls_needed = True, polls

    def next_id(self) -> str:
        """The id the next status will get (ids are shared with media)."""
        with self._lock:
            return str(self._next)

    def _new_id(self) -> str:
        with self._lock:
            self._next += 1
            return str(self._next - 1)

    # -- serving ---------------------------------------------------------------------

    def _scope(self, request: RecordedRequest) -> str | None:
        token = self.bearer(request)
        return self.tokens.get(token) if token else None

    def _authorised(self, request: RecordedRequest, write: bool) -> Answer | None:
        scope = self._scope(request)
        if scope is None:
            return invalid_token()
        if write and not any(g == "write" or g.startswith("write:") for g in scope.split()):
            return mastodon_error(403, "This action is outside the authorized scopes")
        return None

    @staticmethod
    def _params(request: RecordedRequest) -> dict[str, Any]:
        kind = (request.header("content-type") or "").split(";")[0].strip()
        if kind == "application/json":
            data = json.loads(request.body or b"{}")
            return data if isinstance(data, dict) else {}
        pairs = parse_qsl(request.text, keep_blank_values=True)
        params: dict[str, Any] = {}
        for key, value in pairs:
            if key.endswith("[]"):
                params.setdefault(key[:-2], []).append(value)
            else:
                params[key] = value
        return params

    def _status(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._authorised(request, write=True)
        if refused is not None:
            return refused
        key = request.header("idempotency-key")
        with self._lock:
            for done in self.statuses:
                if key and done.idempotency_key == key:
                    return json_answer(200, self._status_json(done))
        try:
            params = self._params(request)
        except ValueError:
            return mastodon_error(400, "Error while parsing request body")
        problem = self._status_problem(params)
        if problem:
            return mastodon_error(422, f"Validation failed: {problem}")
        status = Status(self._new_id(), params, key)
        with self._lock:
            self.statuses.append(status)
        return json_answer(200, self._status_json(status))

    def _get_status(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        if self._scope(request) is None:
            return invalid_token()
        ident = match.group(1)
        with self._lock:
            self.status_reads += 1
            if self.status_reads == self.rate_limit_read:
                return too_many_requests(retry_after="120")
            made = next((s for s in self.statuses if s.id == ident), None)
            counts = self.counts.get(ident)
        if made is None and counts is None:
            return mastodon_error(404, "Record not found")
        status = made or Status(ident, {"status": "a status"}, None)
        zeros = {"favourites_count": 0, "reblogs_count": 0, "replies_count": 0}
        return json_answer(200, {**self._status_json(status), **zeros, **(counts or {})})

    def _status_problem(self, params: dict[str, Any]) -> str | None:
        text = params.get("status") or ""
        media_ids = params.get("media_ids") or []
        if not isinstance(text, str) or not isinstance(media_ids, list):
            return "Malformed parameters"
        if not text.strip() and not media_ids:
            return "Text can't be blank"
        length = mastodon_length(str(params.get("spoiler_text") or "") + text)
        if length > self.max_characters:
            return f"Text character limit of {self.max_characters} exceeded"
        if len(media_ids) > 4:
            return "Media attachments are too many (maximum is 4)"
        if any(str(m) not in self.media for m in media_ids):
            return "Media attachments are not found"
        if params.get("visibility", "public") not in VISIBILITIES:
            return "Visibility is not included in the list"
        return None

    def _status_json(self, status: Status) -> dict[str, Any]:
        return {
            "id": status.id,
            "created_at": "2026-11-23T12:00:00.000Z",
            "uri": f"https://{DOMAIN}/users/{USERNAME}/statuses/{status.id}",
            "url": status.url,
            "visibility": status.params.get("visibility", "public"),
            "spoiler_text": status.params.get("spoiler_text", ""),
            "content": f"<p>{status.params.get('status', '')}</p>",
            "media_attachments": [self.media[str(m)] for m in status.params.get("media_ids", [])],
            "account": self._account(),
        }

    def _upload(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._authorised(request, write=True)
        if refused is not None:
            return refused
        try:
            upload = read_form(request).file("file")
        except FormError:
            upload = None
        if upload is None or not upload.data:
            return mastodon_error(422, "Validation failed: File can't be blank")
        media_id = self._new_id()
        kind = (upload.content_type or "").split("/")[0]
        slow = self.slow_media or kind == "video"
        attachment = {
            "id": media_id,
            "type": "video" if kind == "video" else "image",
            "url": None if slow else f"https://files.{DOMAIN}/media/{media_id}/original",
            "preview_url": f"https://files.{DOMAIN}/media/{media_id}/small",
            "description": None,
        }
        with self._lock:
            self.media[media_id] = attachment
            self._polls[media_id] = 0
        return json_answer(202 if slow else 200, attachment)

    def _media_status(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        refused = self._authorised(request, write=False)
        if refused is not None:
            return refused
        media_id = match.group(1)
        with self._lock:
            if media_id not in self.media:
                return self.not_found(request)
            self._polls[media_id] += 1
            if self._polls[media_id] < self.polls_needed:
                return json_answer(206, self.media[media_id])
            self.media[media_id]["url"] = f"https://files.{DOMAIN}/media/{media_id}/original"
            return json_answer(200, self.media[media_id])

    def _verify(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._authorised(request, write=False)
        return refused if refused is not None else json_answer(200, self._account())

    def _instance(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        return json_answer(
            200,
            {
                "domain": DOMAIN,
                "title": "Example Social",
                "version": "4.5.0",
                "configuration": {
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": 23,
                    }
                },
            },
        )

    @staticmethod
    def _account() -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID,
            "username": USERNAME,
            "acct": USERNAME,
            "display_name": "Community Kitchen",
            "url": f"https://{DOMAIN}/@{USERNAME}",
        }

    # -- the Connect flow ----------------------------------------------------------------

    def _register(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        fields = {k: str(v) for k, v in self._params(request).items()}
        if not fields.get("client_name") or not fields.get("redirect_uris"):
            return mastodon_error(422, "Validation failed: Name can't be blank")
        with self._lock:
            serial = len(self.registrations) + 1
            client_id, secret = f"mast-client-{serial}", f"mast-secret-{serial}"
            self.clients[client_id] = secret
            self.registrations.append(fields)
        return json_answer(
            200,
            {
                "id": str(serial),
                "name": fields["client_name"],
                "website": fields.get("website"),
                "scopes": fields.get("scopes", "read").split(),
                "redirect_uri": fields["redirect_uris"],
                "redirect_uris": fields["redirect_uris"].split(),
                "client_id": client_id,
                "client_secret": secret,
            },
        )

    def _authorize(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        return self.authorization.handle(request)

    def _token(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        form = read_form(request)
        client_id = form.get("client_id") or ""
        if not client_id or self.clients.get(client_id) != form.get("client_secret"):
            return json_answer(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed due to unknown client.",
                },
            )
        if form.get("grant_type") != "authorization_code":
            return json_answer(400, {"error": "unsupported_grant_type"})
        with self._lock:
            grant = self.authorization.redeem(form, client_id)
            if isinstance(grant, Refusal):
                return json_answer(
                    400, {"error": "invalid_grant", "error_description": grant.description}
                )
            token = f"mast-connected-{len(self.tokens) + 1}"
            self.tokens[token] = grant.scope
        return json_answer(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": grant.scope,
                "created_at": 1_764_000_000,
            },
        )
