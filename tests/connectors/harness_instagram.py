"""The Instagram connector in the contract suite, against tests.fakes.instagram.

The post carries one JPEG (by URL: one container, polled, then published); every
scripted answer is for `media_publish`, so each case is about publishing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import httpx
import pytest

from connectors.base import Connector, MediaFile, PublishError, PublishRequest, PublishResult
from connectors.instagram import InstagramConfig, InstagramConnector, InstagramCredentials
from tests.connectors.harness_facebook import regain_minutes
from tests.connectors.harnesses import HANG_SECONDS, REQUEST, FakePlatformHarness, Harness
from tests.fakes.facebook import graph_error, rate_limited
from tests.fakes.instagram import IG_USER_ID, TOKEN, FakeInstagram
from tests.fakes.sinks import drop, hang

PUBLISH = "media_publish"
JPEG = MediaFile(
    id="med-1",
    filename="poster.jpg",
    content_type="image/jpeg",
    size=2048,
    path=REQUEST.media[0].path,
    width=1080,
    height=1080,
    url="http://cadence.test/media/med-1/poster.jpg",
)


class InstagramHarness(FakePlatformHarness):
    name = "instagram"
    secrets = (TOKEN,)

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        connector = InstagramConnector(
            InstagramConfig(ig_user_id=IG_USER_ID, api_base=base),
            InstagramCredentials(page_access_token=TOKEN),
            http,
            now=now,
        )
        connector.poll_seconds = 0.0
        return connector

    def publish(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
        request: PublishRequest = REQUEST,
    ) -> PublishResult | PublishError:
        if request is REQUEST:  # Instagram takes JPEG images, by URL
            request = replace(REQUEST, media=(JPEG,))
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        media_id = self.fake.next_media_id()
        return PublishResult(media_id, self.fake.permalink(media_id))

    def rate_limit(self, retry_after: str) -> None:
        answer = rate_limited(
            4,
            page_id=IG_USER_ID,
            regain_minutes=regain_minutes(retry_after),
            retry_after=retry_after,
        )
        self.fake.answer_next(answer, endpoint=PUBLISH)

    def fail_temporarily(self) -> None:
        self.fake.answer_next(graph_error(2), endpoint=PUBLISH)

    def kill_credentials(self) -> None:
        self.fake.revoke()

    def refuse_content(self) -> str:
        words = "The media could not be published"
        self.fake.answer_next(graph_error(9004, words, subcode=2207052), endpoint=PUBLISH)
        return words

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS), endpoint=PUBLISH)

    def hang_up(self) -> None:
        self.fake.answer_next(drop(), endpoint=PUBLISH)

    def deliveries(self) -> int:
        return len([r for r in self.fake.requests if r.path.endswith("/media_publish")])


def instagram_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeInstagram().start()
    request.addfinalizer(fake.stop)
    return InstagramHarness(fake, transport, dead_port)


HARNESSES = {"instagram": instagram_harness}
