"""The Bluesky connector in the contract suite, against tests.fakes.bluesky.

The post carries a real PNG (uploaded as a blob first) and a mention to resolve;
every scripted answer is for `com.atproto.repo.createRecord`, so each case is about
the post itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.bluesky import BlueskyConfig, BlueskyConnector, BlueskyCredentials
from tests.connectors.harnesses import HANG_SECONDS, REQUEST, FakePlatformHarness, Harness
from tests.connectors.media_files import make_image
from tests.fakes.bluesky import (
    APP_PASSWORD,
    HANDLE,
    FakeBluesky,
    rate_limit_exceeded,
    upstream_failure,
    xrpc_error,
)
from tests.fakes.sinks import drop, hang

CREATE = "createRecord"


class BlueskyHarness(FakePlatformHarness):
    name = "bluesky"
    secrets = (APP_PASSWORD,)

    def __init__(self, fake: FakeBluesky, transport: str, dead_port: int, media: Path) -> None:
        super().__init__(fake, transport, dead_port)
        self.image = make_image(media, "poster.png", media_id="med-1")

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        return BlueskyConnector(
            BlueskyConfig(handle=HANDLE, service=base),
            BlueskyCredentials(app_password=APP_PASSWORD),
            http,
            now=now,
        )

    def publish(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
        request: PublishRequest = REQUEST,
    ) -> PublishResult | PublishError:
        if request is REQUEST:  # the shared request names a file that does not exist
            request = replace(
                REQUEST, text=REQUEST.text + " cc @alice.bsky.social", media=(self.image,)
            )
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        rkey = self.fake.next_rkey()
        return PublishResult(
            f"at://did:plc:kitchen7c4q2vjx3m5yrn/app.bsky.feed.post/{rkey}",
            f"https://bsky.app/profile/{HANDLE}/post/{rkey}",
        )

    def rate_limit(self, retry_after: str) -> None:
        self.fake.answer_next(rate_limit_exceeded(retry_after), endpoint=CREATE)

    def fail_temporarily(self) -> None:
        self.fake.answer_next(upstream_failure(), endpoint=CREATE)

    def kill_credentials(self) -> None:
        self.fake.revoke()

    def refuse_content(self) -> str:
        words = "Invalid app.bsky.feed.post record: Record/text must not be longer"
        self.fake.answer_next(xrpc_error(400, "InvalidRequest", words), endpoint=CREATE)
        return words

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS), endpoint=CREATE)

    def hang_up(self) -> None:
        self.fake.answer_next(drop(), endpoint=CREATE)

    def deliveries(self) -> int:
        return len(self.fake.calls("/xrpc/com.atproto.repo.createRecord"))


def bluesky_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeBluesky().start()
    request.addfinalizer(fake.stop)
    media: Path = request.getfixturevalue("tmp_path")
    return BlueskyHarness(fake, transport, dead_port, media)


HARNESSES = {"bluesky": bluesky_harness}
