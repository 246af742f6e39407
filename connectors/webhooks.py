"""Webhook-family sinks: JSON webhook, Slack, Microsoft Teams, Mattermost.

Schemas, validation and the four connectors. Their HTTP error mapping lives in
connectors/http.py; what is particular to each platform's answers is here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from abc import abstractmethod
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
    Transient,
)
from connectors.check_answers import check_failed
from connectors.checks import refused
from connectors.http import (
    USER_AGENT,
    body_excerpt,
    check_common_status,
    excerpt,
    json_body,
    parse_retry_after,
    redact,
    retry_after,
    send,
)
from connectors.rules import within_limits

SIGNATURE_HEADER = "X-Cadence-Signature"


class WebhookConfig(PlatformConfig):
    url: HttpUrlStr = Field(json_schema_extra=DESTINATION)


class WebhookCredentials(PlatformCredentials):
    signing_secret: str | None = None


class ChatConfig(PlatformConfig):
    username: str | None = None


class ChatCredentials(PlatformCredentials):
    # The URL is the secret itself: changing it means sending it, so it is no
    # destination field (those live in the config).
    webhook_url: HttpUrlStr


# -- connectors ----------------------------------------------------------------------


class _HttpSinkConnector(Connector):
    """What the four webhook-family connectors share: a clock, a reachability probe, and
    validation by nothing but their declared limits.

    `now` is injectable (the dispatcher passes its clock) so Retry-After arithmetic is
    exact in tests; it defaults to the system clock.
    """

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    @property
    @abstractmethod
    def target_url(self) -> str:
        """Where the messages go."""

    def secrets(self) -> list[str]:
        """Strings that must never appear in an error message."""
        return []

    async def _post_json(self, payload: dict[str, Any]) -> httpx.Response:
        return await send(
            self.http,
            "POST",
            self.target_url,
            content=_dump(payload),
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            secrets=self.secrets(),
        )

    def _check_common(self, response: httpx.Response) -> None:
        check_common_status(
            response, platform=self.short_label, now=self.now(), secrets=self.secrets()
        )

    def _message(self, response: httpx.Response, detail: str | None = None) -> str:
        text = detail if detail is not None else body_excerpt(response, secrets=self.secrets())
        head = f"{self.short_label} answered HTTP {response.status_code}"
        return f"{head}: {excerpt(redact(text, self.secrets()))}" if text else head

    @property
    def target_host(self) -> str:
        """The host messages may name (the rest of a webhook URL can be its secret)."""
        return httpx.URL(self.target_url).host

    def _check_failed(self, exc: PublishError) -> CheckResult:
        return check_failed(exc, label=self.label, host=self.target_host)

    async def _probe(self) -> CheckResult:
        """Reachability only: a HEAD request, where any HTTP answer counts as reachable.

        What the server answered (status, headers) is not repeated: the check must not
        become a way to look at other machines.
        """
        try:
            await send(
                self.http,
                "HEAD",
                self.target_url,
                headers={"User-Agent": USER_AGENT},
                secrets=self.secrets(),
            )
        except PublishError as exc:
            return self._check_failed(exc)
        return CheckResult(ok=True, detail=f"{self.target_host} answers; nothing was posted")


def _dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _error_code(status: int) -> str:
    return f"http_{status}"


class WebhookConnector(_HttpSinkConnector):
    """Cadence's own JSON webhook contract.

    POST `config.url` with the post as JSON, `Idempotency-Key: <delivery_id>` so the
    receiver can drop a resend, and, when a signing secret is set,
    `X-Cadence-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`.
    A 2xx answer whose JSON carries `id` and/or `url` gives external_id/permalink.
    """

    slug = "webhook"
    label = "JSON webhook"
    short_label = "Webhook"
    audience = None
    # Media go as links in the JSON, so any file will do.
    limits = Limits()
    config_model = WebhookConfig
    credentials_model = WebhookCredentials
    config: WebhookConfig
    credentials: WebhookCredentials

    @property
    def target_url(self) -> str:
        return self.config.url

    def secrets(self) -> list[str]:
        return [self.credentials.signing_secret] if self.credentials.signing_secret else []

    @staticmethod
    def payload(request: PublishRequest) -> dict[str, Any]:
        return {
            "delivery_id": request.delivery_id,
            "post_id": request.post_id,
            "text": request.text,
            "title": request.title,
            "link": request.link,
            "objectives": [{"id": o.id, "name": o.name} for o in request.objectives],
            "scheduled_at": request.scheduled_at.isoformat() if request.scheduled_at else None,
            "media": [
                {
                    "id": m.id,
                    "filename": m.filename,
                    "content_type": m.content_type,
                    "size": m.size,
                    "url": m.url,
                }
                for m in request.media
            ],
            "post_url": request.post_url,
        }

    def sign(self, body: bytes) -> str | None:
        secret = self.credentials.signing_secret
        if not secret:
            return None
        return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()

    async def publish(self, request: PublishRequest) -> PublishResult:
        body = _dump(self.payload(request))  # serialised once: these bytes are signed and sent
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": request.delivery_id,
            "User-Agent": USER_AGENT,
        }
        signature = self.sign(body)
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        response = await send(
            self.http,
            "POST",
            self.config.url,
            content=body,
            headers=headers,
            secrets=self.secrets(),
        )
        self._check_common(response)
        if not response.is_success:
            raise Permanent(self._message(response), code=_error_code(response.status_code))
        answer = json_body(response)
        if not isinstance(answer, dict):
            return PublishResult()
        external_id = answer.get("id")
        permalink = answer.get("url")
        return PublishResult(
            external_id=None
            if external_id is None or isinstance(external_id, bool | dict | list)
            else str(external_id),
            permalink=permalink if isinstance(permalink, str) and permalink else None,
        )

    async def check(self) -> CheckResult:
        """A HEAD request to the URL: any HTTP answer means reachable. Posts nothing.

        A receiver is free to route only POST, so a 404 or 405 still proves the host
        answers; a connection failure or timeout is not ok. The signature is not
        exercised (a HEAD has no body to sign).
        """
        return await self._probe()


# Slack's plain-text answers that mean the webhook itself no longer works: the app was
# removed, the channel archived or deleted, the token revoked. Reconnecting fixes them.
SLACK_DEAD_WEBHOOK = frozenset(
    {
        "action_prohibited",
        "channel_is_archived",
        "channel_not_found",
        "invalid_token",
        "no_service",
        "no_service_id",
        "no_team",
        "team_disabled",
    }
)
_SLACK_CODE = re.compile(r"[a-z0-9_]+")
SLACK_SECTION_MAX = 3000  # characters of mrkdwn text per section block
SLACK_HEADER_MAX = 150


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, size: int) -> list[str]:
    """Pieces of at most `size` characters, cut after a line break or space when one is
    near the end, and never inside an escape such as `&amp;`."""
    pieces = []
    while len(text) > size:
        cut = size
        window = text[size - 200 : size]
        soft = max(window.rfind("\n"), window.rfind(" "))
        if soft >= 0:
            cut = size - 200 + soft + 1
        amp = text.rfind("&", cut - 5, cut)
        if amp >= 0 and ";" not in text[amp:cut]:
            cut = amp
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return pieces


class _ChatConnector(_HttpSinkConnector):
    audience = "internal"
    config_model = ChatConfig
    credentials_model = ChatCredentials
    config: ChatConfig
    credentials: ChatCredentials

    @property
    def target_url(self) -> str:
        return self.credentials.webhook_url

    def secrets(self) -> list[str]:
        url = httpx.URL(self.credentials.webhook_url)
        hidden = [self.credentials.webhook_url]
        if len(url.raw_path) > 1:
            hidden += [url.raw_path.decode("ascii", "replace"), url.path]
        if url.query:
            hidden.append(url.query.decode("ascii", "replace"))
        return hidden


class SlackConnector(_ChatConnector):
    """Slack incoming webhook: `{"text", "blocks"}` (+ `username`); answers plain text.

    200 `ok` is success (incoming webhooks return no message id). 404/410 and the
    403/404 codes in SLACK_DEAD_WEBHOOK mean the webhook is dead: AuthExpired, the
    channel needs reconnecting. 400 and other refusals are Permanent with Slack's words.
    """

    slug = "slack"
    label = "Slack"
    short_label = "Slack"
    limits = Limits(text=40_000)

    def payload(self, request: PublishRequest) -> dict[str, Any]:
        blocks: list[dict[str, Any]] = []
        if request.title:
            title = request.title.strip()
            if len(title) > SLACK_HEADER_MAX:
                title = title[: SLACK_HEADER_MAX - 1] + "…"
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": title}})
        text = _slack_escape(request.text)
        for chunk in _chunks(text, SLACK_SECTION_MAX):
            if chunk.strip():
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
        if request.link:
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": f"<{_slack_escape(request.link)}>"},
                }
            )
        payload: dict[str, Any] = {"text": text or (request.title or ""), "blocks": blocks}
        if self.config.username:
            payload["username"] = self.config.username
        return payload

    async def publish(self, request: PublishRequest) -> PublishResult:
        response = await self._post_json(self.payload(request))
        self._raise_for_answer(response)
        return PublishResult()

    def _raise_for_answer(self, response: httpx.Response) -> None:
        self._check_common(response)
        if response.is_success:
            return
        status = response.status_code
        text = body_excerpt(response, secrets=self.secrets())
        code = text if _SLACK_CODE.fullmatch(text) else None
        if code in SLACK_DEAD_WEBHOOK or status in (404, 410):
            raise AuthExpired(
                self._message(
                    response,
                    f"{text or 'webhook not found'} (the webhook no longer works: "
                    "reconnect the channel)",
                )
            )
        raise Permanent(self._message(response, text), code=code or _error_code(status))

    async def check(self) -> CheckResult:
        """POST an empty JSON object: a live webhook refuses it (400 `no_text` or
        `invalid_payload`) without posting anything, a dead one answers 403/404/410."""
        try:
            response = await self._post_json({})
        except PublishError as exc:
            return self._check_failed(exc)
        if response.is_success or response.status_code == 400:
            return CheckResult(ok=True, detail="Slack knows the webhook; nothing was posted")
        code = body_excerpt(response, secrets=self.secrets())
        if code in SLACK_DEAD_WEBHOOK:  # one of a known set: Slack's word, not any server's
            return refused(
                f"Slack says the webhook no longer works ({code}): reconnect the channel"
            )
        try:
            self._raise_for_answer(response)
        except PublishError as exc:
            return self._check_failed(exc)
        return self._check_failed(Permanent("unexpected"))  # pragma: no cover


# Mattermost's error ids (the JSON `id` of a 4xx/5xx answer) that mean the hook is gone.
MATTERMOST_DEAD_WEBHOOK = frozenset(
    {
        "web.incoming_webhook.invalid.app_error",  # unknown or deleted hook
        "web.incoming_webhook.channel.app_error",  # its channel was deleted
    }
)
MATTERMOST_DISABLED = "web.incoming_webhook.disabled.app_error"


class MattermostConnector(_ChatConnector):
    """Mattermost incoming webhook: `{"text", "username"?}`; 200 `ok`.

    Errors are JSON `{"id", "message", ...}`: an unknown hook (or one whose channel is
    gone) is AuthExpired; bad text is Permanent with Mattermost's message; 501 means
    incoming webhooks are disabled on the server: Permanent until an admin enables them.
    A 429 waits for `Retry-After`, else for `X-Ratelimit-Reset` (seconds).
    """

    slug = "mattermost"
    label = "Mattermost"
    short_label = "Mattermost"
    limits = Limits(text=16_383)

    def payload(self, request: PublishRequest) -> dict[str, Any]:
        parts = []
        if request.title:
            parts.append(f"**{request.title.strip()}**")
        if request.text.strip():
            parts.append(request.text)
        if request.link:
            parts.append(request.link)
        payload: dict[str, Any] = {"text": "\n\n".join(parts)}
        if self.config.username:
            payload["username"] = self.config.username
        return payload

    async def publish(self, request: PublishRequest) -> PublishResult:
        response = await self._post_json(self.payload(request))
        if response.is_success:
            return PublishResult()
        status = response.status_code
        answer = json_body(response)
        error_id = answer.get("id") if isinstance(answer, dict) else None
        message = answer.get("message") if isinstance(answer, dict) else None
        error_id = error_id if isinstance(error_id, str) and error_id else None
        detail = message if isinstance(message, str) and message else None
        if status == 501 or error_id == MATTERMOST_DISABLED:  # before the 5xx -> Transient rule
            raise Permanent(
                self._message(
                    response, detail or "incoming webhooks are disabled on this Mattermost server"
                ),
                code=error_id or _error_code(status),
            )
        if status == 429 and "retry-after" not in response.headers:
            reset = response.headers.get("x-ratelimit-reset")  # seconds until the reset
            retry_at = parse_retry_after(reset, now=self.now()) if reset else None
            raise RateLimited(self._message(response, detail), retry_at)
        self._check_common(response)
        if error_id in MATTERMOST_DEAD_WEBHOOK or status in (403, 404, 410):
            raise AuthExpired(
                self._message(
                    response,
                    f"{detail or error_id or 'webhook not found'} (the webhook no longer works: "
                    "reconnect the channel)",
                )
            )
        raise Permanent(self._message(response, detail), code=error_id or _error_code(status))

    async def check(self) -> CheckResult:
        """Reachability only: a HEAD to the hook URL, any HTTP answer counts.

        Mattermost checks the text before it looks the hook up, so no request that
        posts nothing can tell a live hook from a dead one.
        """
        return await self._probe()


ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# Legacy Office 365 connectors answer 200 with text such as "Webhook message delivery
# failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId ...".
_TEAMS_LEGACY_ERROR = re.compile(r"HTTP error (\d{3})")


class TeamsConnector(_ChatConnector):
    """Microsoft Teams Workflows webhook (also legacy Office 365 connectors).

    POSTs a message with one Adaptive Card 1.4 attachment. Success is 202 (or 200)
    with an empty body, or the legacy `1`; no message id. Legacy connectors report
    throttling as a 200 whose body mentions HTTP 429: RateLimited. A 403/404/410 means
    the workflow or connector is gone (AuthExpired); a 400 is Permanent.
    """

    slug = "teams"
    label = "Microsoft Teams"
    short_label = "Microsoft Teams"
    # The whole card must stay under Teams' 28 KB message size.
    limits = Limits(text=25_000)

    @staticmethod
    def card(request: PublishRequest) -> dict[str, Any]:
        body: list[dict[str, Any]] = []
        if request.title:
            body.append(
                {
                    "type": "TextBlock",
                    "text": request.title.strip(),
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                }
            )
        body.append({"type": "TextBlock", "text": request.text, "wrap": True})
        card: dict[str, Any] = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        if request.link:
            card["actions"] = [
                {"type": "Action.OpenUrl", "title": "Open link", "url": request.link}
            ]
        return card

    def payload(self, request: PublishRequest) -> dict[str, Any]:
        return {
            "type": "message",
            "attachments": [
                {"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": self.card(request)}
            ],
        }

    async def publish(self, request: PublishRequest) -> PublishResult:
        response = await self._post_json(self.payload(request))
        self._check_common(response)
        if response.is_success:
            self._raise_for_legacy_error(response)
            return PublishResult()
        status = response.status_code
        answer = json_body(response)
        error = answer.get("error") if isinstance(answer, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        code = code if isinstance(code, str) and code else None
        detail = message if isinstance(message, str) and message else None
        if status in (403, 404, 410):
            raise AuthExpired(
                self._message(
                    response,
                    f"{detail or code or 'webhook not found'} (the webhook no longer works: "
                    "reconnect the channel)",
                )
            )
        raise Permanent(self._message(response, detail), code=code or _error_code(status))

    def _raise_for_legacy_error(self, response: httpx.Response) -> None:
        text = response.text.strip()
        if text in ("", "1"):
            return
        match = _TEAMS_LEGACY_ERROR.search(text)
        status = int(match.group(1)) if match else (429 if "429" in text else None)
        if status is None:
            return  # some other success text
        detail = self._message(response)
        if status == 429:
            raise RateLimited(detail, retry_after(response.headers, now=self.now()))
        if status >= 500:
            raise Transient(detail)
        raise Permanent(detail, code=_error_code(status))

    async def check(self) -> CheckResult:
        """Reachability only: a HEAD to the webhook URL, any HTTP answer counts.

        Any POST to a Workflows URL runs the flow (and posts), so nothing stronger can
        be checked without posting.
        """
        return await self._probe()
