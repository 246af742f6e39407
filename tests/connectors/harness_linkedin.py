"""The LinkedIn connector in the contract suite, against tests.fakes.linkedin.

The post carries a real PNG (initializeUpload, then the PUT of its bytes); every
scripted answer is for `POST /rest/posts`, so each case is about the post itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.linkedin import LinkedInConfig, LinkedInConnector, LinkedInCredentials
from tests.connectors.harnesses import HANG_SECONDS, REQUEST, FakePlatformHarness, Harness
from tests.connectors.media_files import make_image
from tests.fakes.linkedin import (
    ORG_URN,
    TOKEN,
    FakeLinkedIn,
    gateway_timeout,
    linkedin_error,
    throttled,
)
from tests.fakes.sinks import drop, hang

POSTS = "posts"


class LinkedInHarness(FakePlatformHarness):
    name = "linkedin"
    secrets = (TOKEN,)

    def __init__(self, fake: FakeLinkedIn, transport: str, dead_port: int, media: Path) -> None:
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
        return LinkedInConnector(
            LinkedInConfig(organization_urn=ORG_URN, api_base=base),
            LinkedInCredentials(access_token=TOKEN),
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
            request = replace(REQUEST, media=(self.image,))
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        urn = self.fake.next_urn()
        return PublishResult(urn, f"https://www.linkedin.com/feed/update/{urn}/")

    def rate_limit(self, retry_after: str) -> None:
        self.fake.answer_next(throttled(retry_after), endpoint=POSTS)

    def fail_temporarily(self) -> None:
        self.fake.answer_next(gateway_timeout(), endpoint=POSTS)

    def kill_credentials(self) -> None:
        self.fake.revoke()

    def refuse_content(self) -> str:
        words = "/commentary :: length of commentary exceeds 3000 characters"
        self.fake.answer_next(linkedin_error(422, "UNPROCESSABLE_ENTITY", words), endpoint=POSTS)
        return words

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS), endpoint=POSTS)

    def hang_up(self) -> None:
        self.fake.answer_next(drop(), endpoint=POSTS)

    def deliveries(self) -> int:
        return len(self.fake.calls("/rest/posts"))


def linkedin_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeLinkedIn().start()
    request.addfinalizer(fake.stop)
    media: Path = request.getfixturevalue("tmp_path")
    return LinkedInHarness(fake, transport, dead_port, media)


HARNESSES = {"linkedin": linkedin_harness}
