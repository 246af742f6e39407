"""A fake Instagram Graph API (content publishing) on 127.0.0.1.

Graph's paths under `/{version}/` with the token as `access_token` (form or query),
errors as Graph writes them (tests.fakes.facebook.graph_error):

- `POST /{version}/{ig-user-id}/media`: `image_url` (a JPEG by URL), or `media_type=
  REELS` + `video_url`, or `is_carousel_item=true`, or `media_type=CAROUSEL` with
  `children` (2 to 10 container ids); `caption` at most 2200 characters -> `{"id"}`.
  The fake does not fetch the URL; it records it. A container stays `IN_PROGRESS` for
  `polls_needed - 1` status reads, then `FINISHED` (or `fail_next_container("ERROR")`).
- `GET /{version}/{container-id}?fields=status_code` -> `{"status_code", "id"}`.
- `POST /{version}/{ig-user-id}/media_publish` `creation_id` -> `{"id": <media id>}`;
  a container not FINISHED: 400 code 9007 "Media ID is not available".
- `GET /{version}/{media-id}?fields=permalink` -> `{"permalink", "id"}`.
- `GET /{version}/{ig-user-id}?fields=username` -> `{"username", "id"}`.
- `GET /{version}/{media-id}?fields=like_count,comments_count` -> the media's
  `engagement` (`like_count` left out when the owner hid likes); a media in `deleted`:
  code 100, subcode 33.
An unknown or revoked token: code 190.

The Connect flow (Facebook Login, as tests.fakes.facebook): the dialog at
`/v24.0/dialog/oauth` (tests.fakes.oauth), `GET /{version}/oauth/access_token` (the code,
then `grant_type=fb_exchange_token` for a long-lived token, about 60 days) and
`GET /{version}/me/accounts?fields=instagram_business_account{id,username},
access_token,name`: the Pages, one linked to the Instagram account, one not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.facebook import graph_error
from tests.fakes.forms import read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.scripted import Handler, ScriptedFake
from tests.fakes.sinks import Answer, RecordedRequest, json_answer

IG_USER_ID = "17841400008460056"
USERNAME = "community.kitchen"
TOKEN = "EAAIgPageTokenForInstagram9Zq2Lm"
VERSION = r"v\d+\.\d+"
FIRST_MEDIA = 18_000_000_000_000_001
APP_ID = "1289473920193847"
APP_SECRET = "ig-app-secret-5b1d93e0"
LONG_LIVED_SECONDS = 5_184_000


@dataclass
class Container:
    id: str
    fields: dict[str, str]
    reads: int = 0
    status: str = "IN_PROGRESS"


@dataclass
class FakeInstagram(ScriptedFake):
    token: str = TOKEN
    polls_needed: int = 2
    containers: dict[str, Container] = field(default_factory=dict)
    published: dict[str, Container] = field(default_factory=dict)  # media id -> container
    apps: dict[str, str] = field(default_factory=lambda: {APP_ID: APP_SECRET})
    user_tokens: dict[str, str] = field(default_factory=dict)  # token -> "short" or "long"
    # media id -> {"like_count": n, "comments_count": n} (like_count left out: likes hidden)
    engagement: dict[str, dict[str, int]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.authorization = AuthorizationServer(
            clients=self.apps, authorize_path="/v24.0/dialog/oauth", name="Facebook", pkce=False
        )
        super().__post_init__()
        self._next = FIRST_MEDIA
        self._fail_with: str | None = None

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        return {
            ("POST", rf"/{VERSION}/{IG_USER_ID}/media"): ("media", self._create),
            ("POST", rf"/{VERSION}/{IG_USER_ID}/media_publish"): ("media_publish", self._publish),
            ("GET", rf"/{VERSION}/(\d+)"): ("node", self._node),
            ("GET", "/v24.0/dialog/oauth"): ("dialog", self._dialog),
            ("POST", "/v24.0/dialog/oauth/decide"): ("dialog", self._dialog),
            ("GET", rf"/{VERSION}/oauth/access_token"): ("access_token", self._access_token),
            ("GET", rf"/{VERSION}/me/accounts"): ("accounts", self._accounts),
        }

    def not_found(self, request: RecordedRequest) -> Answer:
        return graph_error(100, "Unsupported request - method type: get", subcode=33)

    def revoke(self) -> None:
        self.token = "revoked"

    def fail_next_container(self, status: str = "ERROR") -> None:
        self._fail_with = status

    def next_media_id(self, containers_before: int = 1) -> str:
        """The media id publishing will return after `containers_before` containers."""
        return str(self._next + containers_before)

    def permalink(self, media_id: str) -> str:
        return f"https://www.instagram.com/p/C{int(media_id) % 10**9:09d}/"

    # -- serving -------------------------------------------------------------------------

    def _fields(self, request: RecordedRequest) -> dict[str, str]:
        return read_form(request).as_dict()

    def _new_id(self) -> str:
        with self._lock:
            self._next += 1
            return str(self._next - 1)

    def _create(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        fields = self._fields(request)
        if fields.get("access_token") != self.token:
            return graph_error(190)
        if len(fields.get("caption", "")) > 2200:
            return graph_error(100, "The caption is too long", subcode=2207006)
        kind = fields.get("media_type")
        if kind == "CAROUSEL":
            children = [c for c in fields.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(c not in self.containers for c in children):
                return graph_error(100, "(#100) The parameter children is invalid")
        elif kind == "REELS":
            if not fields.get("video_url", "").startswith(("http://", "https://")):
                return graph_error(100, "(#100) The parameter video_url is required")
        elif not fields.get("image_url", "").startswith(("http://", "https://")):
            return graph_error(100, "(#100) The parameter image_url is required")
        container = Container(self._new_id(), fields)
        if self._fail_with:
            container.status, self._fail_with = self._fail_with, None
        with self._lock:
            self.containers[container.id] = container
        return json_answer(200, {"id": container.id})

    def _publish(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        fields = self._fields(request)
        if fields.get("access_token") != self.token:
            return graph_error(190)
        container = self.containers.get(fields.get("creation_id", ""))
        if container is None or container.status != "FINISHED":
            return graph_error(9007, "Media ID is not available", subcode=2207027)
        media_id = self._new_id()
        with self._lock:
            container.status = "PUBLISHED"
            self.published[media_id] = container
        return json_answer(200, {"id": media_id})

    def _node(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        fields = self._fields(request)
        if fields.get("access_token") != self.token:
            return graph_error(190)
        node = match.group(1)
        wanted = fields.get("fields", "")
        if node == IG_USER_ID:
            return json_answer(200, {"id": IG_USER_ID, "username": USERNAME})
        if node in self.deleted:
            return graph_error(100, f"(#100) Object with ID '{node}' does not exist", subcode=33)
        if node in self.engagement and "like_count" in wanted:
            return json_answer(200, {"id": node, **self.engagement[node]})
        if node in self.published and "permalink" in wanted:
            return json_answer(200, {"id": node, "permalink": self.permalink(node)})
        container = self.containers.get(node)
        if container is None:
            return graph_error(100, f"(#100) Object with ID '{node}' does not exist", subcode=33)
        with self._lock:
            container.reads += 1
            if container.status == "IN_PROGRESS" and container.reads >= self.polls_needed:
                container.status = "FINISHED"
        answer: dict[str, Any] = {"id": node, "status_code": container.status}
        return json_answer(200, answer)

    # -- Facebook Login ------------------------------------------------------------------

    def _dialog(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        return self.authorization.handle(request)

    def _user_token(self, kind: str, seconds: int) -> Answer:
        with self._lock:
            token = f"EAAIgUser{kind.upper()}{len(self.user_tokens) + 1:04d}"
            self.user_tokens[token] = kind
        return json_answer(
            200, {"access_token": token, "token_type": "bearer", "expires_in": seconds}
        )

    def _access_token(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        form = read_form(request)
        if self.apps.get(form.get("client_id") or "") != form.get("client_secret"):
            return graph_error(101, "Error validating application. Invalid application ID.")
        if form.get("grant_type") == "fb_exchange_token":
            if self.user_tokens.get(form.get("fb_exchange_token") or "") is None:
                return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
            return self._user_token("long", LONG_LIVED_SECONDS)
        grant = self.authorization.redeem(form, form.get("client_id") or "")
        if isinstance(grant, Refusal):
            return graph_error(100, "Invalid verification code format.", subcode=36007)
        return self._user_token("short", 5_400)

    def _accounts(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        form = read_form(request)
        if self.user_tokens.get(form.get("access_token") or "") != "long":
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        linked = {
            "instagram_business_account": {"id": IG_USER_ID, "username": USERNAME},
            "access_token": self.token,
            "name": "Community Kitchen",
            "id": "101558470283722",
        }
        unlinked = {"access_token": "EAAIgOtherPage", "name": "Bake sale", "id": "1015584702"}
        return json_answer(200, {"data": [linked, unlinked], "paging": {"cursors": {}}})
