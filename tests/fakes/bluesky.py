"""A fake Bluesky PDS (AT Protocol XRPC): a real HTTP server on 127.0.0.1.

- `POST /xrpc/com.atproto.server.createSession` `{identifier, password}`: the right
  handle (or DID) and app password -> `{accessJwt, refreshJwt, handle, did, active}`;
  anything else 401 `{"error": "AuthenticationRequired", "message": "Invalid
  identifier or password"}`.
- `POST /xrpc/com.atproto.server.refreshSession` with the refresh token as bearer ->
  new tokens (the old refresh token dies); a dead one: 400 `ExpiredToken`.
- Authenticated calls with an expired access token: 400 `{"error": "ExpiredToken",
  "message": "Token has expired"}`; an unknown one: 401 `InvalidToken`.
- `GET /xrpc/com.atproto.server.getSession`, `GET
  /xrpc/com.atproto.identity.resolveHandle?handle=` (400 `InvalidRequest` "Unable to
  resolve handle" for strangers), `POST /xrpc/com.atproto.repo.uploadBlob` (raw bytes;
  over 1,000,000 bytes: 400 `BlobTooLarge`), `POST
  /xrpc/com.atproto.repo.createRecord` (the record is checked: `$type`, `text` of at
  most 300 graphemes and 3000 bytes, `createdAt`, facets inside the text's bytes,
  image blobs this fake handed out) -> `{uri, cid}`.
- `GET /xrpc/app.bsky.feed.getPosts?uris=...&uris=...` (authenticated; at most 25
  uris, else 400 `InvalidRequest`): `{posts: [PostView]}` with `likeCount`,
  `repostCount`, `replyCount`, `quoteCount` from `counts` (zeros for a post this fake
  made); a deleted or unknown post is left out of `posts`, as the AppView does.
  `rate_limit_lookup = n`: the n-th call answers 429 `RateLimitExceeded`, Retry-After 300.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from connectors.bluesky_text import graphemes
from tests.fakes.scripted import Handler, ScriptedFake
from tests.fakes.sinks import Answer, RecordedRequest, json_answer, text_answer

HANDLE = "kitchen.bsky.social"
DID = "did:plc:kitchen7c4q2vjx3m5yrn"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
KNOWN_HANDLES = {"alice.bsky.social": "did:plc:alice2bq6t3x5zd", HANDLE: DID}
XRPC = "/xrpc/"


def xrpc_error(
    status: int, name: str, message: str, headers: dict[str, str] | None = None
) -> Answer:
    return json_answer(status, {"error": name, "message": message}, headers)


def rate_limit_exceeded(retry_after: str | None = None, reset: int | None = None) -> Answer:
    headers = {
        "RateLimit-Limit": "5000",
        "RateLimit-Remaining": "0",
        "RateLimit-Policy": "5000;w=3600",
    }
    if reset is not None:
        headers["RateLimit-Reset"] = str(reset)
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", headers)


def upstream_failure() -> Answer:
    return text_answer(502, "Bad Gateway")


@dataclass
class Post:
    rkey: str
    record: dict[str, Any]

    @property
    def uri(self) -> str:
        return f"at://{DID}/app.bsky.feed.post/{self.rkey}"


@dataclass
class FakeBluesky(ScriptedFake):
    app_password: str = APP_PASSWORD
    posts: list[Post] = field(default_factory=list)
    blobs: dict[str, int] = field(default_factory=dict)  # cid -> size
    access_tokens: set[str] = field(default_factory=set)
    expired_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    logins: int = 0
    # post uri -> {"likeCount": n, "repostCount": n, "replyCount": n, "quoteCount": n}
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    lookups: int = 0
    rate_limit_lookup: int | None = None  # this getPosts call (1-based) answers 429 once

    def __post_init__(self) -> None:
        super().__post_init__()
        self._rkeys = (f"3lcadence{n:04d}k2" for n in itertools.count(1))
        self._next_rkey = next(self._rkeys)

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        x = XRPC
        return {
            ("POST", f"{x}com.atproto.server.createSession"): ("createSession", self._login),
            ("POST", f"{x}com.atproto.server.refreshSession"): ("refreshSession", self._refresh),
            ("GET", f"{x}com.atproto.server.getSession"): ("getSession", self._session),
            ("GET", f"{x}com.atproto.identity.resolveHandle"): ("resolveHandle", self._resolve),
            ("POST", f"{x}com.atproto.repo.uploadBlob"): ("uploadBlob", self._blob),
            ("POST", f"{x}com.atproto.repo.createRecord"): ("createRecord", self._create),
            ("GET", f"{x}app.bsky.feed.getPosts"): ("getPosts", self._get_posts),
        }

    def not_found(self, request: RecordedRequest) -> Answer:
        return xrpc_error(501, "MethodNotImplemented", "Method Not Implemented")

    # -- scripting -----------------------------------------------------------------------

    def revoke(self) -> None:
        """The app password is revoked: its sessions end too."""
        self.app_password = "revoked-" + secrets.token_hex(4)
        self.access_tokens.clear()
        self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        self.expired_tokens |= self.access_tokens
        self.access_tokens.clear()

    def next_rkey(self) -> str:
        return self._next_rkey

    # -- serving -------------------------------------------------------------------------

    def _tokens(self) -> dict[str, Any]:
        access, refresh = f"acc.{secrets.token_hex(12)}", f"ref.{secrets.token_hex(12)}"
        with self._lock:
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": HANDLE,
            "did": DID,
            "active": True,
        }

    def _login(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        body = _json(request)
        if body.get("identifier") not in (HANDLE, DID) or body.get("password") != self.app_password:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        with self._lock:
            self.logins += 1
        return json_answer(200, self._tokens())

    def _refresh(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        token = self.bearer(request)
        with self._lock:
            if token not in self.refresh_tokens:
                return xrpc_error(400, "ExpiredToken", "Token has been revoked")
            self.refresh_tokens.discard(token)
        return json_answer(200, self._tokens())

    def _auth(self, request: RecordedRequest) -> Answer | None:
        token = self.bearer(request)
        if token in self.access_tokens:
            return None
        if token in self.expired_tokens:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return xrpc_error(401, "InvalidToken", "Bad token scope")

    def _session(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._auth(request)
        return refused or json_answer(200, {"handle": HANDLE, "did": DID, "active": True})

    def _resolve(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        handle = parse_qs(request.query).get("handle", [""])[0]
        if handle not in KNOWN_HANDLES:
            return xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
        return json_answer(200, {"did": KNOWN_HANDLES[handle]})

    def _blob(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._auth(request)
        if refused:
            return refused
        if len(request.body) > 1_000_000:
            return xrpc_error(
                400,
                "BlobTooLarge",
                "This file is too large. It is 1.2MB but the maximum size is 1MB.",
            )
        cid = f"bafkrei{secrets.token_hex(20)}"
        with self._lock:
            self.blobs[cid] = len(request.body)
        blob = {
            "$type": "blob",
            "ref": {"$link": cid},
            "mimeType": request.header("content-type") or "*/*",
            "size": len(request.body),
        }
        return json_answer(200, {"blob": blob})

    def _create(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._auth(request)
        if refused:
            return refused
        body = _json(request)
        if body.get("repo") not in (DID, HANDLE) or body.get("collection") != "app.bsky.feed.post":
            return xrpc_error(400, "InvalidRequest", "Invalid repo or collection")
        problem = self._record_problem(body.get("record"))
        if problem:
            return xrpc_error(
                400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}"
            )
        with self._lock:
            post = Post(self._next_rkey, body["record"])
            self._next_rkey = next(self._rkeys)
            self.posts.append(post)
        return json_answer(200, {"uri": post.uri, "cid": f"bafyrei{secrets.token_hex(20)}"})

    def _get_posts(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._auth(request)
        if refused is not None:
            return refused
        with self._lock:
            self.lookups += 1
            if self.lookups == self.rate_limit_lookup:
                return rate_limit_exceeded(retry_after="300")
        uris = parse_qs(request.query).get("uris", [])
        if not uris or len(uris) > 25:
            return xrpc_error(400, "InvalidRequest", "uris must have 1 to 25 items")
        with self._lock:
            made = {p.uri: p for p in self.posts}
            views = []
            for uri in uris:
                if uri not in made and uri not in self.counts:
                    continue
                zeros = {"likeCount": 0, "repostCount": 0, "replyCount": 0, "quoteCount": 0}
                record = made[uri].record if uri in made else {"text": "a post"}
                views.append(
                    {
                        "uri": uri,
                        "cid": "bafyreib2rxk3rh6kzwq",
                        "author": {"did": DID, "handle": HANDLE},
                        "record": record,
                        "indexedAt": "2026-11-23T12:00:00.000Z",
                        **zeros,
                        **self.counts.get(uri, {}),
                    }
                )
        return json_answer(200, {"posts": views})

    def _record_problem(self, record: Any) -> str | None:
        if not isinstance(record, dict) or record.get("$type") != "app.bsky.feed.post":
            return "Record/$type must be app.bsky.feed.post"
        text = record.get("text")
        if not isinstance(text, str) or not isinstance(record.get("createdAt"), str):
            return 'Record must have the properties "text" and "createdAt"'
        if graphemes(text) > 300 or len(text.encode()) > 3000:
            return "Record/text must not be longer than 300 graphemes"
        size = len(text.encode())
        for facet in record.get("facets", []):
            index = facet.get("index", {})
            if not 0 <= index.get("byteStart", -1) < index.get("byteEnd", -1) <= size:
                return "Record/facets/index is out of the text"
        embed = record.get("embed") or {}
        for image in embed.get("images", []):
            if image.get("image", {}).get("ref", {}).get("$link") not in self.blobs:
                return "Could not find blob"
        if len(embed.get("images", [])) > 4:
            return "Record/embed/images must not have more than 4 elements"
        return None


def _json(request: RecordedRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
