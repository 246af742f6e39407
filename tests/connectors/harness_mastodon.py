"""The Mastodon connector in the contract suite, against tests.fakes.mastodon.

The post carries a real PNG, uploaded first; every scripted answer is for `POST
/api/v1/statuses`, so each case is about the status itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.mastodon import MastodonConfig, MastodonConnector, MastodonCredentials
from tests.connectors.harnesses import (
    FAKES_ALLOWED,
    HANG_SECONDS,
    REQUEST,
    FakePlatformHarness,
    Harness,
)
from tests.connectors.media_files import make_image
from tests.fakes.mastodon import (
    TOKEN,
    FakeMastodon,
    mastodon_error,
    too_many_requests,
    unavailable,
)
from tests.fakes.sinks import drop, hang

STATUSES = "statuses"


class MastodonHarness(FakePlatformHarness):
    name = "mastodon"
    secrets = (TOKEN,)

    def __init__(self, fake: FakeMastodon, transport: str, dead_port: int, media: Path) -> None:
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
        connector = MastodonConnector(
            MastodonConfig(instance=base),
            MastodonCredentials(access_token=TOKEN),
            http,
            now=now,
            outbound=FAKES_ALLOWED,
        )
        connector.media_poll_seconds = 0.0
        return connector

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
        status = int(self.fake.next_id()) + 1  # the image takes the first id
        return PublishResult(str(status), f"https://social.example/@kitchen/{status}")

    def rate_limit(self, retry_after: str) -> None:
        self.fake.answer_next(too_many_requests(retry_after), endpoint=STATUSES)

    def fail_temporarily(self) -> None:
        self.fake.answer_next(unavailable(), endpoint=STATUSES)

    def kill_credentials(self) -> None:
        self.fake.revoke(TOKEN)

    def refuse_content(self) -> str:
        words = "Validation failed: Text character limit of 500 exceeded"
        self.fake.answer_next(mastodon_error(422, words), endpoint=STATUSES)
        return words

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS), endpoint=STATUSES)

    def hang_up(self) -> None:
        self.fake.answer_next(drop(), endpoint=STATUSES)

    def deliveries(self) -> int:
        """Status requests: the file upload before each is no delivery."""
        return len(self.fake.calls("/api/v1/statuses"))


def mastodon_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeMastodon().start()
    request.addfinalizer(fake.stop)
    media: Path = request.getfixturevalue("tmp_path")
    return MastodonHarness(fake, transport, dead_port, media)


HARNESSES = {"mastodon": mastodon_harness}
