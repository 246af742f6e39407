"""One harness per connector: how to build it against its fake platform and how to make
that platform answer each case of the contract. The contract suite is written once
against this interface (as APScheduler's tests run one suite over every data store)."""

from __future__ import annotations

import asyncio
import ssl
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

from connectors.base import (
    Connector,
    MediaFile,
    ObjectiveRef,
    PublishError,
    PublishRequest,
    PublishResult,
)
from connectors.email import EmailConfig, EmailConnector, EmailCredentials
from connectors.outbound import OutboundPolicy
from connectors.transport import make_client as production_client
from connectors.webhooks import (
    ChatConfig,
    ChatCredentials,
    MattermostConnector,
    SlackConnector,
    TeamsConnector,
    WebhookConfig,
    WebhookConnector,
    WebhookCredentials,
)
from tests.connectors.smtp import PASSWORD, USERNAME, SmtpServer
from tests.fakes.sinks import (
    SinkServer,
    drop,
    hang,
    json_answer,
    mattermost_error,
    mattermost_ok,
    rate_limited,
    server_error,
    slack_error,
    slack_ok,
    teams_accepted,
    teams_error,
    text_answer,
    webhook_accepted,
)

REQUEST = PublishRequest(
    delivery_id="dlv-0001",
    post_id="post-0001",
    text="Bake sale on Friday in the atrium.\nBring cakes & <friends>!",
    title="Bake sale",
    link="https://example.org/events/bake-sale?from=cadence&x=1",
    media=(
        MediaFile(
            id="med-1",
            filename="poster.png",
            content_type="image/png",
            size=2048,
            path=Path("/nonexistent/poster.png"),
            width=640,
            height=480,
            url="http://cadence.test/media/med-1/poster.png",
        ),
    ),
    objectives=(
        ObjectiveRef("obj-1", "Fundraising events"),
        ObjectiveRef("obj-2", "Support and information"),
    ),
    scheduled_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    post_url="http://cadence.test/posts/post-0001",
)

# The fakes listen on 127.0.0.1, which the outbound policy refuses: allowed here as an
# operator would with CADENCE_OUTBOUND_ALLOW=127.0.0.1.
FAKES_ALLOWED = OutboundPolicy(["127.0.0.1"])

HANG_SECONDS = 5.0  # far beyond the short timeout the "no answer" tests use

WEBHOOK_SECRET = "whsec-Signing-Secret-0c9f2b"
SLACK_TOKEN = "xoxSlackHookToken7d1e"
TEAMS_SIG = "TeamsWorkflowSig5a9c04"
MATTERMOST_KEY = "mmHookKey3k9q8z7x"


# Building the default TLS context (loading the CA bundle) costs ~30 ms: do it once.
_TLS = ssl.create_default_context()


def make_client(transport: str, timeout: float) -> httpx.AsyncClient:
    """An httpx client: "httpx" (its own transport), "aiohttp" (plain httpx-aiohttp) or
    "cadence" (the client the dispatcher builds, connectors.transport.make_client)."""
    if transport == "cadence":
        return production_client(timeout=timeout, max_connections=10, outbound=FAKES_ALLOWED)
    if transport == "aiohttp":
        return httpx.AsyncClient(timeout=timeout, transport=AiohttpTransport(verify=_TLS))
    return httpx.AsyncClient(timeout=timeout, verify=_TLS)


async def attempt(
    connector_for: Callable[[httpx.AsyncClient], Connector],
    client: httpx.AsyncClient,
    request: PublishRequest = REQUEST,
) -> PublishResult | PublishError:
    """Publish once; the raised error kind is returned so tests can assert on it."""
    async with client:
        connector = connector_for(client)
        try:
            return await connector.publish(request)
        except PublishError as exc:
            return exc


class Harness(ABC):
    name: str
    transport: str = "httpx"
    supports_rate_limit = True
    # Strings that must appear in no error message and no log line.
    secrets: tuple[str, ...] = ()

    @abstractmethod
    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        """The connector under test; `refused`: pointed at a port nobody listens on."""

    def client(self, timeout: float = 2.0) -> httpx.AsyncClient:
        return make_client(self.transport, timeout)

    def publish(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
        request: PublishRequest = REQUEST,
    ) -> PublishResult | PublishError:
        return asyncio.run(
            attempt(
                lambda http: self.connector(http, now=now, timeout=timeout, refused=refused),
                self.client(timeout),
                request,
            )
        )

    def check(self, *, timeout: float = 2.0, refused: bool = False) -> object:
        async def go() -> object:
            async with self.client(timeout) as http:
                return await self.connector(http, timeout=timeout, refused=refused).check()

        return asyncio.run(go())

    @abstractmethod
    def succeed(self) -> PublishResult:
        """Make the platform accept; return the result the connector must report."""

    def rate_limit(self, retry_after: str) -> None:
        raise NotImplementedError

    @abstractmethod
    def fail_temporarily(self) -> None:
        """The platform's own temporary failure (HTTP 5xx, SMTP 4xx)."""

    @abstractmethod
    def kill_credentials(self) -> None:
        """Answer as the platform does when the webhook or login no longer works."""

    @abstractmethod
    def refuse_content(self) -> str:
        """Refuse this content for good; return the platform's words the error must carry."""

    @abstractmethod
    def hang(self) -> None:
        """Take the request, then say nothing for HANG_SECONDS."""

    @abstractmethod
    def hang_up(self) -> None:
        """Take the request, then close the connection without answering."""

    @abstractmethod
    def deliveries(self) -> int:
        """How many requests (HTTP) or accepted messages (SMTP) reached the platform."""


class FakePlatformHarness(Harness):
    """A harness over a fake platform (tests/fakes/<platform>.py) scripted with answer_next."""

    def __init__(self, fake: Any, transport: str, dead_port: int) -> None:
        self.fake = fake
        self.sink = fake.sink  # the contract suite reads what arrived from here
        self.transport = transport
        self.dead_port = dead_port

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS))

    def hang_up(self) -> None:
        self.fake.answer_next(drop())

    def deliveries(self) -> int:
        return len(self.fake.requests)


class HttpHarness(Harness):
    path: str = "/hook"
    query: str = ""

    def __init__(self, sink: SinkServer, transport: str, dead_port: int) -> None:
        self.sink = sink
        self.transport = transport
        self.dead_port = dead_port

    def target(self, refused: bool) -> str:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.sink.url
        return base + self.path + self.query

    def rate_limit(self, retry_after: str) -> None:
        self.sink.answer(rate_limited(retry_after))

    def fail_temporarily(self) -> None:
        self.sink.answer(server_error(503, "Service Unavailable"))

    def hang(self) -> None:
        self.sink.answer(hang(HANG_SECONDS))

    def hang_up(self) -> None:
        self.sink.answer(drop())

    def deliveries(self) -> int:
        return len(self.sink.requests)


class WebhookHarness(HttpHarness):
    name = "webhook"
    path = "/intranet/cadence-hook"
    secrets = (WEBHOOK_SECRET,)

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        return WebhookConnector(
            WebhookConfig(url=self.target(refused)),
            WebhookCredentials(signing_secret=WEBHOOK_SECRET),
            http,
            now=now,
        )

    def succeed(self) -> PublishResult:
        self.sink.answer(webhook_accepted("msg-42", "https://intranet.example.org/news/42"))
        return PublishResult("msg-42", "https://intranet.example.org/news/42")

    def kill_credentials(self) -> None:
        self.sink.answer(text_answer(401, "signature not accepted"))

    def refuse_content(self) -> str:
        self.sink.answer(json_answer(422, {"error": "text is too long for the intranet"}))
        return "text is too long for the intranet"


class SlackHarness(HttpHarness):
    name = "slack"
    path = f"/services/T0CADENCE/B0CADENCE/{SLACK_TOKEN}"
    secrets = (SLACK_TOKEN,)

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        return SlackConnector(
            ChatConfig(username="Cadence"),
            ChatCredentials(webhook_url=self.target(refused)),
            http,
            now=now,
        )

    def succeed(self) -> PublishResult:
        self.sink.answer(slack_ok())
        return PublishResult()

    def kill_credentials(self) -> None:
        self.sink.answer(slack_error("channel_not_found"))

    def refuse_content(self) -> str:
        self.sink.answer(slack_error("invalid_payload"))
        return "invalid_payload"

    def fail_temporarily(self) -> None:
        self.sink.answer(slack_error("rollup_error"))


class TeamsHarness(HttpHarness):
    name = "teams"
    path = "/workflows/5f1c/triggers/manual/paths/invoke"
    query = f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={TEAMS_SIG}"
    secrets = (TEAMS_SIG,)

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        return TeamsConnector(
            ChatConfig(),
            ChatCredentials(webhook_url=self.target(refused)),
            http,
            now=now,
        )

    def succeed(self) -> PublishResult:
        self.sink.answer(teams_accepted())
        return PublishResult()

    def kill_credentials(self) -> None:
        self.sink.answer(
            teams_error(404, "WorkflowNotFound", "The workflow '5f1c' could not be found.")
        )

    def refuse_content(self) -> str:
        message = (
            "The input body for trigger 'manual' of type 'Request' did not match its "
            "schema definition."
        )
        self.sink.answer(teams_error(400, "TriggerInputSchemaMismatch", message))
        return message


class MattermostHarness(HttpHarness):
    name = "mattermost"
    path = f"/hooks/{MATTERMOST_KEY}"
    secrets = (MATTERMOST_KEY,)

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        return MattermostConnector(
            ChatConfig(username="cadence-bot"),
            ChatCredentials(webhook_url=self.target(refused)),
            http,
            now=now,
        )

    def succeed(self) -> PublishResult:
        self.sink.answer(mattermost_ok())
        return PublishResult()

    def kill_credentials(self) -> None:
        self.sink.answer(mattermost_error("web.incoming_webhook.invalid.app_error"))

    def refuse_content(self) -> str:
        self.sink.answer(mattermost_error("web.incoming_webhook.text.app_error"))
        return "No text specified"


class EmailHarness(Harness):
    name = "email"
    supports_rate_limit = False  # SMTP has no Retry-After
    secrets = (PASSWORD,)

    def __init__(self, server: SmtpServer, dead_port: int) -> None:
        self.server = server
        self.dead_port = dead_port

    def config(self, *, timeout: float = 2.0, refused: bool = False) -> EmailConfig:
        return EmailConfig(
            host=self.server.host,
            port=self.dead_port if refused else self.server.port,
            security="none",
            from_address="comms@example.org",
            to_addresses=["staff@example.org", "volunteers@example.org"],
            timeout=timeout,
        )

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        return EmailConnector(
            self.config(timeout=timeout, refused=refused),
            EmailCredentials(username=USERNAME, password=PASSWORD),
            http,
            now=now,
            outbound=FAKES_ALLOWED,
        )

    def succeed(self) -> PublishResult:
        return PublishResult(external_id=f"<{REQUEST.delivery_id}@cadence>")

    def fail_temporarily(self) -> None:
        self.server.behaviour.data = "451 4.3.0 Temporary local problem, try again later"

    def kill_credentials(self) -> None:
        self.server.behaviour.reject_logins = True

    def refuse_content(self) -> str:
        self.server.behaviour.data = "554 5.7.1 Message rejected: looks like spam"
        return "Message rejected: looks like spam"

    def hang(self) -> None:
        self.server.behaviour.data_hang = HANG_SECONDS

    def hang_up(self) -> None:
        self.server.behaviour.data_hangup = True

    def deliveries(self) -> int:
        return len(self.server.received)
