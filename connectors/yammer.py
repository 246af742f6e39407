"""Yammer / Viva Engage: schemas, validation and the connector.

Posting (the legacy Yammer REST API, v1): `POST {api_base}/api/v1/messages.json`,
form-encoded, `Authorization: Bearer <token>`, with `body`, `group_id` and
`topic1`..`topicN` (one per objective, at most 20). The answer is the new message in
the same shape as the message feeds: `{"messages": [{"id", "url", "web_url",
"thread_id", ...}], "references": [...], "meta": {...}}`; the message's `id` is the
external id and its `web_url` the permalink. Any 2xx is success (the reference pages
do not state the status code).

Errors, as Yammer's own client (yampy) reads them: 401, and 400 with "OAuthException"
in the body, mean the token is expired or revoked (AuthExpired); 404 means the group
does not exist or the user cannot see it (Permanent); 429 is the rate limit (10
messages per 30 seconds per user and app; Retry-After when sent, else 30 seconds);
5xx is Transient; other 4xx are Permanent with Yammer's words.

Media are not uploaded. Files can be uploaded to a group through
`https://filesng.yammer.com/v4/uploadSmallFile` (multipart, at most 4 MB), but how an
uploaded file is then attached to a new message is not documented in the reference
(third-party code passes `attached_objects[]=uploaded_file:<id>`, unconfirmed), so the
media's public URLs are appended to the message body instead, one per line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from pydantic import Field

from connectors.base import (
    DESTINATION,
    AuthExpired,
    CheckResult,
    Connector,
    HttpUrlStr,
    Limits,
    Permanent,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
)
from connectors.check_answers import check_failed, shown_name, unexpected_answer
from connectors.http import (
    USER_AGENT,
    body_excerpt,
    check_common_status,
    excerpt,
    json_body,
    redact,
    retry_after,
    send,
)
from connectors.rules import MB, within_limits

DEFAULT_API_BASE = "https://www.yammer.com"
MAX_TOPICS = 20
# Messages: 10 requests in 30 seconds per user and app. A 429 without Retry-After
# waits for a whole window.
RATE_LIMIT_WINDOW = timedelta(seconds=30)
OAUTH_EXCEPTION = "OAuthException"


class YammerConfig(PlatformConfig):
    group_id: str
    network_id: str | None = None
    # Where the access token is renewed (Microsoft identity platform v2, with the
    # tenant); set by the Connect flow.
    token_url: HttpUrlStr | None = Field(default=None, json_schema_extra=DESTINATION)


class YammerCredentials(PlatformCredentials):
    access_token: str
    # From the Connect flow (Entra tokens last about an hour): renewed on a 401.
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


def message_body(request: PublishRequest) -> str:
    """The text, then the link (unless the text has it), then each media URL."""
    parts = [request.text.strip()] if request.text.strip() else []
    if request.link and request.link not in request.text:
        parts.append(request.link)
    urls = [m.url for m in request.media if m.url]
    if urls:
        parts.append("\n".join(urls))
    return "\n\n".join(parts)


def topics(request: PublishRequest) -> list[str]:
    """The objectives' names, without repeats, at most MAX_TOPICS."""
    names = dict.fromkeys(o.name.strip() for o in request.objectives if o.name.strip())
    return list(names)[:MAX_TOPICS]


class YammerConnector(Connector):
    """Posts a message to a Yammer (Viva Engage) group; see the module docstring."""

    slug = "yammer"
    label = "Yammer / Viva Engage"
    short_label = "Yammer"
    audience = "internal"
    limits = Limits(
        media_types={
            t: 4 * MB
            for t in ("image/jpeg", "image/png", "image/gif", "application/pdf", "video/mp4")
        },
    )
    config: YammerConfig
    credentials: YammerCredentials
    config_model = YammerConfig
    credentials_model = YammerCredentials

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    @property
    def api_base(self) -> str:
        return (self.config.api_base or DEFAULT_API_BASE).rstrip("/")

    def secrets(self) -> list[str]:
        c = self.credentials
        return [v for v in (c.access_token, c.refresh_token, c.client_secret) if v]

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials.access_token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    def form(self, request: PublishRequest) -> dict[str, str]:
        fields = {"body": message_body(request), "group_id": self.config.group_id}
        for number, name in enumerate(topics(request), start=1):
            fields[f"topic{number}"] = name
        return fields

    def _message(self, response: httpx.Response, detail: str | None = None) -> str:
        text = detail if detail is not None else body_excerpt(response, secrets=self.secrets())
        head = f"{self.short_label} answered HTTP {response.status_code}"
        return f"{head}: {excerpt(redact(text, self.secrets()))}" if text else head

    def _raise_for_answer(self, response: httpx.Response) -> None:
        """Return on 2xx; raise the error kind of any other answer."""
        if response.is_success:
            return
        status = response.status_code
        if status == 429:
            retry_at = retry_after(response.headers, now=self.now())
            if retry_at is None:
                retry_at = self.now() + RATE_LIMIT_WINDOW
            raise RateLimited(self._message(response), retry_at)
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )
        if status == 400 and OAUTH_EXCEPTION in response.text:
            raise AuthExpired(self._message(response))
        detail = _error_detail(json_body(response))
        if status == 404:
            raise Permanent(
                self._message(
                    response,
                    f"{detail or 'not found'} (group {self.config.group_id} does not exist "
                    "or this user cannot post to it)",
                ),
                code="not_found",
            )
        raise Permanent(self._message(response, detail), code=_error_code(response, status))

    async def publish(self, request: PublishRequest) -> PublishResult:
        response = await self._post(request)
        if response.status_code == 401 and self.can_refresh:
            # A 401 created nothing: renew the token once (app/connect/tokens.py) and
            # send again.
            fresh = await self.refresh_credentials(self.credentials.access_token)  # type: ignore[misc]
            known = {k: v for k, v in fresh.items() if k in YammerCredentials.model_fields}
            self.credentials = YammerCredentials.model_validate(known)
            response = await self._post(request)
        self._raise_for_answer(response)
        answer = json_body(response)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        message = messages[0] if isinstance(messages, list) and messages else None
        if not isinstance(message, dict):
            return PublishResult()  # accepted; nothing to link to
        message_id = message.get("id")
        web_url = message.get("web_url")
        return PublishResult(
            external_id=str(message_id)
            if isinstance(message_id, int | str) and not isinstance(message_id, bool)
            else None,
            permalink=web_url if isinstance(web_url, str) and web_url else None,
        )

    @property
    def can_refresh(self) -> bool:
        return self.refresh_credentials is not None and bool(self.credentials.refresh_token)

    async def _post(self, request: PublishRequest) -> httpx.Response:
        return await send(
            self.http,
            "POST",
            f"{self.api_base}/api/v1/messages.json",
            data=self.form(request),
            headers=self._headers(),
            secrets=self.secrets(),
        )

    async def check(self) -> CheckResult:
        """`GET /api/v1/users/current.json`: who the token belongs to. Posts nothing.

        A refused token answers `connectors.checks.refused(...)` (the channel needs
        reconnecting); a platform that is down or busy answers `ok: false` only.
        """
        try:
            response = await send(
                self.http,
                "GET",
                f"{self.api_base}/api/v1/users/current.json",
                headers=self._headers(),
                secrets=self.secrets(),
            )
            self._raise_for_answer(response)
        except PublishError as exc:
            return check_failed(exc, label=self.short_label, host=httpx.URL(self.api_base).host)
        user = json_body(response)
        if not isinstance(user, dict):
            return unexpected_answer(self.short_label)
        account = {
            key: user[key]
            for key in ("id", "full_name", "email", "network_id", "network_name", "web_url")
            if key in user
        }
        who = shown_name(account.get("full_name") or account.get("email") or "its user")
        return CheckResult(
            ok=True, detail=f"{self.short_label} accepts the token of {who}", account=account
        )


def _error_detail(answer: Any) -> str | None:
    """Yammer's words from an error body: `{"error": {"body": [...], "code"}}` (a
    refused message) or `{"response": {"message", "code", "stat"}}` (a refused token)."""
    if not isinstance(answer, dict):
        return None
    error = answer.get("error")
    if isinstance(error, dict):
        words = [
            w
            for value in error.values()
            for w in (value if isinstance(value, list) else [value])
            if isinstance(w, str)
        ]
        return "; ".join(words) or None
    if isinstance(error, str):
        return error
    response = answer.get("response")
    if isinstance(response, dict) and isinstance(response.get("message"), str):
        return str(response["message"])
    return None


def _error_code(response: httpx.Response, status: int) -> str:
    answer = json_body(response)
    error = answer.get("error") if isinstance(answer, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code else f"http_{status}"
