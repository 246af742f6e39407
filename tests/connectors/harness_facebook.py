"""The Facebook Page connector in the contract suite, against tests.fakes.facebook."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.facebook import FacebookConfig, FacebookConnector, FacebookCredentials
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import REQUEST, FakePlatformHarness, Harness
from tests.connectors.media_files import make_image
from tests.fakes.facebook import PAGE_ID, PAGE_TOKEN, FakeFacebook, graph_error, rate_limited


def regain_minutes(retry_after: str) -> int:
    """The whole minutes Graph's BUC header would name for a `Retry-After` value."""
    try:
        seconds = float(retry_after)
    except ValueError:
        seconds = (parsedate_to_datetime(retry_after) - NOW).total_seconds()
    return max(1, math.ceil(seconds / 60))


class FacebookHarness(FakePlatformHarness):
    name = "facebook"
    secrets = (PAGE_TOKEN,)

    def __init__(self, fake: FakeFacebook, transport: str, dead_port: int, media: Path) -> None:
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
        return FacebookConnector(
            FacebookConfig(page_id=PAGE_ID, api_base=base),
            FacebookCredentials(page_access_token=PAGE_TOKEN),
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
        # The shared request names a file that does not exist; post a real one instead.
        if request is REQUEST:
            request = replace(REQUEST, media=(self.image,))
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        _photo_id, post = self.fake.upcoming_ids(2)  # one image: a published photo
        post_id = f"{PAGE_ID}_{post}"
        return PublishResult(post_id, f"https://www.facebook.com/{post_id}")

    def rate_limit(self, retry_after: str) -> None:
        # Graph names the wait in X-Business-Use-Case-Usage, in whole minutes; the suite
        # asks for seconds, so this answer also carries Retry-After (see rate_limited).
        self.fake.answer_next(
            rate_limited(80001, regain_minutes=regain_minutes(retry_after), retry_after=retry_after)
        )

    def fail_temporarily(self) -> None:
        self.fake.answer_next(graph_error(2))

    def kill_credentials(self) -> None:
        self.fake.revoke(PAGE_TOKEN)

    def refuse_content(self) -> str:
        self.fake.answer_next(graph_error(506))
        return "(#506) Duplicate status message"


def facebook_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeFacebook().start()
    request.addfinalizer(fake.stop)
    media: Path = request.getfixturevalue("tmp_path")
    return FacebookHarness(fake, transport, dead_port, media)


HARNESSES = {"facebook": facebook_harness}
