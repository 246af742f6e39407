"""A fake LinkedIn versioned REST API (Posts and Images APIs): a real HTTP server.

- Every `/rest/` call needs `Authorization: Bearer <token>` (401 `{"status": 401,
  "serviceErrorCode": 65600, "code": "REVOKED_ACCESS_TOKEN", "message": "The token
  used in the request has been revoked by the user"}` otherwise), `LinkedIn-Version:
  YYYYMM` (400 `VERSION_MISSING` without, 426 `NONEXISTENT_VERSION` for an unknown
  one) and `X-Restli-Protocol-Version: 2.0.0`.
- `POST /rest/images?action=initializeUpload` -> `{"value": {"uploadUrlExpiresAt",
  "uploadUrl", "image": "urn:li:image:..."}}`; `PUT /dms-uploads/<image>` takes the
  bytes (201).
- `POST /rest/posts`: author must be an organisation the member administers (403
  `ACCESS_DENIED` otherwise), commentary at most 3000 characters, images uploaded
  first -> 201, empty body, `x-restli-id: urn:li:share:<n>`.
- `GET /rest/organizations/{id}` -> `{"id", "localizedName", "vanityName"}`.
- `GET /rest/socialActions/{post urn, URL-encoded}` (Community Management API, Social
  Actions) -> `{"target", "likesSummary": {"totalLikes", "aggregatedTotalLikes"},
  "commentsSummary": {"totalFirstLevelComments", "aggregatedTotalComments"}}` from
  `engagement` (zeros for a post this fake made); an unknown or deleted post: 404.
  `rate_limit_read = n`: the n-th read answers 429 with `Retry-After: 600`.
- `GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR` -> `{"elements":
  [{"organization", "role", "roleAssignee", "state"}], "paging"}`: the pages the member
  administers.
- The Connect flow (learn.microsoft.com/linkedin/shared/authentication/
  authorization-code-flow): `GET /oauth/v2/authorization` is the consent page
  (tests.fakes.oauth, no PKCE); `POST /oauth/v2/accessToken` takes the client id and
  secret in the form and redeems a code or a refresh token -> `{"access_token",
  "expires_in": 5184000, "refresh_token", "refresh_token_expires_in", "scope"}`.
  Refresh tokens are programmatic ones: not rotated, their end does not move.
  Errors are `{"error", "error_description"}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.fakes.forms import read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.scripted import Handler, ScriptedFake
from tests.fakes.sinks import Answer, RecordedRequest, json_answer, text_answer

TOKEN = "AQX-linkedin-Access-Token-3fa9c2"
ORG_ID = "2414183"
ORG_URN = f"urn:li:organization:{ORG_ID}"
VERSIONS = frozenset({"202411", "202501", "202505", "202508", "202511"})
FIRST_SHARE = 7_280_000_000_000_000_001
CLIENT_ID = "78cadence9linkedin"
CLIENT_SECRET = "WPL_AP1.cadence-linkedin-secret"
ACCESS_SECONDS = 60 * 86400
REFRESH_SECONDS = 365 * 86400


def linkedin_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Answer:
    return json_answer(status, {"status": status, "code": code, "message": message}, headers)


def revoked() -> Answer:
    return json_answer(
        401,
        {
            "status": 401,
            "serviceErrorCode": 65600,
            "code": "REVOKED_ACCESS_TOKEN",
            "message": "The token used in the request has been revoked by the user",
        },
    )


def throttled(retry_after: str | None = None) -> Answer:
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return linkedin_error(
        429,
        "TOO_MANY_REQUESTS",
        "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
        headers,
    )


def gateway_timeout() -> Answer:
    return text_answer(504, "Gateway Timeout")


@dataclass
class Post:
    urn: str
    body: dict[str, Any]


@dataclass
class FakeLinkedIn(ScriptedFake):
    token: str = TOKEN
    admin_of: set[str] = field(default_factory=lambda: {ORG_URN})
    posts: list[Post] = field(default_factory=list)
    images: dict[str, bytes | None] = field(default_factory=dict)
    # post urn -> {"likes": n, "comments": n}
    engagement: dict[str, dict[str, int]] = field(default_factory=dict)
    social_reads: int = 0
    rate_limit_read: int | None = None
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    # The Connect flow: issued (access, refresh) pairs; refresh tokens LinkedIn
    # grants only to approved partners (`with_refresh=False`: none).
    issued: list[tuple[str, str | None]] = field(default_factory=list)
    with_refresh: bool = True
    expired: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.authorization = AuthorizationServer(
            clients=self.clients,
            authorize_path="/oauth/v2/authorization",
            name="LinkedIn",
            pkce=False,
            code_prefix="AQT",
        )
        super().__post_init__()
        self._next = FIRST_SHARE

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        return {
            ("POST", "/rest/posts"): ("posts", self._post),
            ("POST", "/rest/images"): ("images", self._initialize),
            ("PUT", r"/dms-uploads/(urn:li:image:\w+)"): ("upload", self._upload),
            ("GET", r"/rest/organizations/(\d+)"): ("organizations", self._organization),
            ("GET", r"/rest/socialActions/(.+)"): ("socialActions", self._social_actions),
            ("GET", "/rest/organizationAcls"): ("organizationAcls", self._acls),
            ("GET", "/oauth/v2/authorization"): ("authorize", self._authorize),
            ("POST", "/oauth/v2/authorization/decide"): ("authorize", self._authorize),
            ("POST", "/oauth/v2/accessToken"): ("token", self._token),
        }

    def not_found(self, request: RecordedRequest) -> Answer:
        return linkedin_error(404, "NOT_FOUND", "No virtual resource found")

    def revoke(self) -> None:
        self.token = "revoked"

    def next_urn(self) -> str:
        return f"urn:li:share:{self._next}"

    # -- serving -------------------------------------------------------------------------

    def live(self, token: str | None) -> bool:
        issued = {access for access, _ in self.issued}
        return (
            token is not None
            and token not in self.expired
            and (token == self.token or (token in issued and self.token != "revoked"))
        )

    def _refused(self, request: RecordedRequest) -> Answer | None:
        if not self.live(self.bearer(request)):
            return revoked()
        version = request.header("linkedin-version")
        if not version:
            return linkedin_error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            )
        if version not in VERSIONS:
            return linkedin_error(
                426, "NONEXISTENT_VERSION", f"Requested version {version} is not active"
            )
        if request.header("x-restli-protocol-version") != "2.0.0":
            return linkedin_error(400, "INVALID_PROTOCOL", "Rest.li protocol 2.0.0 is required")
        return None

    def _social_actions(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        urn = unquote(match.group(1))
        with self._lock:
            self.social_reads += 1
            if self.social_reads == self.rate_limit_read:
                return linkedin_error(
                    429,
                    "TOO_MANY_REQUESTS",
                    "Resource level throttle limit",
                    {"Retry-After": "600"},
                )
            made = any(p.urn == urn for p in self.posts)
            figures = self.engagement.get(urn)
        if figures is None and not made:
            return linkedin_error(404, "NOT_FOUND", f"Not found: {urn}")
        likes, comments = (figures or {}).get("likes", 0), (figures or {}).get("comments", 0)
        return json_answer(
            200,
            {
                "target": urn,
                "likesSummary": {"totalLikes": likes, "aggregatedTotalLikes": likes},
                "commentsSummary": {
                    "totalFirstLevelComments": comments,
                    "aggregatedTotalComments": comments,
                },
            },
        )

    def _post(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        body = request.json()
        if body.get("author") not in self.admin_of:
            return linkedin_error(
                403,
                "ACCESS_DENIED",
                "Not enough permissions to access: partnerApiPostsExternal.CREATE.20251101",
            )
        commentary = body.get("commentary", "")
        if len(commentary.replace("\\", "")) > 3000:
            return linkedin_error(
                422,
                "UNPROCESSABLE_ENTITY",
                "/commentary :: length of commentary exceeds 3000 characters",
            )
        content = body.get("content") or {}
        ids = (
            [content["media"]["id"]]
            if "media" in content
            else [i["id"] for i in content.get("multiImage", {}).get("images", [])]
        )
        if any(self.images.get(i) is None for i in ids):
            return linkedin_error(
                422, "UNPROCESSABLE_ENTITY", "/content/media/id :: image is not uploaded"
            )
        with self._lock:
            urn = self.next_urn()
            self._next += 1
            self.posts.append(Post(urn, body))
        return Answer(201, b"", {"x-restli-id": urn})

    def _initialize(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        if request.query != "action=initializeUpload":
            return linkedin_error(400, "ILLEGAL_ARGUMENT", "Unsupported action")
        owner = request.json().get("initializeUploadRequest", {}).get("owner")
        if owner not in self.admin_of:
            return linkedin_error(
                403,
                "ACCESS_DENIED",
                "Not enough permissions to access: images.ACTION.initializeUpload",
            )
        with self._lock:
            image = f"urn:li:image:C4E10AQ{len(self.images) + 1:06d}"
            self.images[image] = None
        return json_answer(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": 1_764_000_000_000,
                    "uploadUrl": f"{self.url}/dms-uploads/{image}",
                    "image": image,
                }
            },
        )

    def _upload(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        image = match.group(1)
        if image not in self.images or not self.live(self.bearer(request)):
            return text_answer(400, "")
        with self._lock:
            self.images[image] = request.body
        return Answer(201, b"", {})

    def _organization(self, request: RecordedRequest, match: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        if f"urn:li:organization:{match.group(1)}" not in self.admin_of:
            return linkedin_error(
                403, "ACCESS_DENIED", "Not enough permissions to access: organizations.GET"
            )
        return json_answer(
            200,
            {
                "id": int(match.group(1)),
                "localizedName": "Community Kitchen",
                "vanityName": "community-kitchen",
            },
        )

    def _acls(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        refused = self._refused(request)
        if refused:
            return refused
        query = dict(parse_qsl(request.query))
        if query.get("q") != "roleAssignee":
            return linkedin_error(400, "ILLEGAL_ARGUMENT", "Unsupported finder")
        elements = [
            {
                "organization": urn,
                "role": "ADMINISTRATOR",
                "roleAssignee": "urn:li:person:cadence8member",
                "state": "APPROVED",
            }
            for urn in sorted(self.admin_of)
        ]
        return json_answer(200, {"elements": elements, "paging": {"count": 10, "start": 0}})

    def _authorize(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        return self.authorization.handle(request)

    def _token(self, request: RecordedRequest, _: re.Match[str]) -> Answer:
        form = read_form(request)
        if self.clients.get(form.get("client_id") or "") != form.get("client_secret"):
            return json_answer(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        grant_type = form.get("grant_type")
        with self._lock:
            if grant_type == "authorization_code":
                grant = self.authorization.redeem(form, form.get("client_id") or "")
                if isinstance(grant, Refusal):
                    return json_answer(
                        400, {"error": "invalid_request", "error_description": grant.description}
                    )
                refresh = f"AQW-refresh-{len(self.issued) + 1}" if self.with_refresh else None
            elif grant_type == "refresh_token":
                refresh = form.get("refresh_token") or ""
                if refresh not in {r for _, r in self.issued if r}:
                    return json_answer(
                        400,
                        {
                            "error": "invalid_grant",
                            "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked.",
                        },
                    )
            else:
                return json_answer(400, {"error": "unsupported_grant_type"})
            access = f"AQV-linkedin-access-{len(self.issued) + 1}"
            self.issued.append((access, refresh))
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_SECONDS,
            "scope": "r_organization_social,rw_organization_admin,w_organization_social",
        }
        if refresh is not None:
            body.update(refresh_token=refresh, refresh_token_expires_in=REFRESH_SECONDS)
        return json_answer(200, body)
