"""The Flickr connector in the contract suite, against tests.fakes.flickr."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.flickr import FlickrConfig, FlickrConnector, FlickrCredentials
from tests.connectors.harnesses import REQUEST, FakePlatformHarness, Harness
from tests.connectors.media_files import make_image
from tests.fakes.flickr import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    OAUTH_TOKEN,
    OAUTH_TOKEN_SECRET,
    USER_NSID,
    FakeFlickr,
    flickr_error,
    too_many_requests,
)


def flickr_credentials(**changes: str) -> FlickrCredentials:
    values = {
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "oauth_token": OAUTH_TOKEN,
        "oauth_token_secret": OAUTH_TOKEN_SECRET,
        **changes,
    }
    return FlickrCredentials(**values)


class FlickrHarness(FakePlatformHarness):
    name = "flickr"
    # All four credentials: the key and token are not signing secrets, but they are the
    # channel's credentials all the same, and stay out of messages and logs.
    secrets = (CONSUMER_SECRET, OAUTH_TOKEN_SECRET, OAUTH_TOKEN, CONSUMER_KEY)

    def __init__(self, fake: FakeFlickr, transport: str, dead_port: int, media: Path) -> None:
        super().__init__(fake, transport, dead_port)
        self.image = make_image(media, "poster.jpg", kind="jpeg", media_id="med-1")

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        return FlickrConnector(
            FlickrConfig(user_nsid=USER_NSID, api_base=base, upload_base=base),
            flickr_credentials(),
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
        # The shared request names a file that does not exist; upload a real one instead.
        if request is REQUEST:
            request = replace(REQUEST, media=(self.image,))
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        photo_id = self.fake.upcoming_id()
        return PublishResult(photo_id, f"https://www.flickr.com/photos/{USER_NSID}/{photo_id}")

    def rate_limit(self, retry_after: str) -> None:
        self.fake.answer_next(too_many_requests(retry_after))

    def fail_temporarily(self) -> None:
        self.fake.answer_next(flickr_error(105))

    def kill_credentials(self) -> None:
        self.fake.revoke(OAUTH_TOKEN)

    def refuse_content(self) -> str:
        self.fake.answer_next(flickr_error(5))
        return "Filetype was not recognised"


def flickr_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeFlickr().start()
    request.addfinalizer(fake.stop)
    media: Path = request.getfixturevalue("tmp_path")
    return FlickrHarness(fake, transport, dead_port, media)


HARNESSES = {"flickr": flickr_harness}
