"""The Yammer connector in the contract suite, against tests/fakes/yammer.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from connectors.base import Connector, PublishResult
from connectors.yammer import YammerConfig, YammerConnector, YammerCredentials
from tests.connectors.harnesses import HANG_SECONDS, Harness
from tests.fakes.sinks import SinkServer, drop, hang
from tests.fakes.yammer import (
    GROUP_ID,
    TOKEN,
    YammerFake,
    body_blank,
    rate_limited,
    server_error,
    unauthorized,
)


class YammerHarness(Harness):
    name = "yammer"
    secrets = (TOKEN,)

    def __init__(self, fake: YammerFake, transport: str, dead_port: int) -> None:
        self.fake = fake
        self.transport = transport
        self.dead_port = dead_port

    @property
    def sink(self) -> SinkServer:
        return self.fake.sink

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        return YammerConnector(
            YammerConfig(group_id=GROUP_ID, api_base=base),
            YammerCredentials(access_token=TOKEN),
            http,
            now=now,
        )

    def succeed(self) -> PublishResult:
        message_id = self.fake.next_message_id()
        return PublishResult(str(message_id), self.fake.web_url(message_id))

    def rate_limit(self, retry_after: str) -> None:
        self.fake.answer(rate_limited(retry_after))

    def fail_temporarily(self) -> None:
        self.fake.answer(server_error(503))

    def kill_credentials(self) -> None:
        self.fake.answer(unauthorized())

    def refuse_content(self) -> str:
        self.fake.answer(body_blank())
        return "Please include a message"

    def hang(self) -> None:
        self.fake.answer(hang(HANG_SECONDS))

    def hang_up(self) -> None:
        self.fake.answer(drop())

    def deliveries(self) -> int:
        return len(self.fake.requests)


def _yammer(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = YammerFake().start()
    request.addfinalizer(fake.stop)
    return YammerHarness(fake, transport, dead_port)


HARNESSES = {"yammer": _yammer}
