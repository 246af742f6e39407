"""The X connector in the contract suite, against tests.fakes.x.

Two harnesses: `x` (OAuth 1.0a, the post carries a real PNG, uploaded first) and
`x_oauth2` (an OAuth 2 user token; a text post, since X's v1.1 upload takes no OAuth 2
token). Every scripted answer is for `POST /2/tweets`, so the upload before it goes
through and each case is about the post itself. tweepy sends with requests, not with
the httpx client the suite hands the connector: the transport variants differ only in
the timeouts the connector reads from it (and, for OAuth 2, the token refresh).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.x import XConfig, XConnector, XCredentials
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import FAKES_ALLOWED, HANG_SECONDS, REQUEST, Harness
from tests.connectors.media_files import make_image
from tests.fakes.sinks import drop, hang
from tests.fakes.x import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_SECRET,
    CLIENT_ID,
    CLIENT_SECRET,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    OAUTH2_TOKEN,
    REFRESH_TOKEN,
    TOO_LONG,
    TWEETS_PATH,
    USERNAME,
    FakeX,
    server_error,
    text_too_long,
    too_many_requests,
)


def oauth1_credentials(**changes: str) -> XCredentials:
    values = {
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "access_token": ACCESS_TOKEN,
        "access_token_secret": ACCESS_TOKEN_SECRET,
        **changes,
    }
    return XCredentials(**values)


def oauth2_credentials(**changes: str) -> XCredentials:
    values = {
        "access_token": OAUTH2_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **changes,
    }
    return XCredentials(**values)


def reset_epoch(retry_after: str) -> int:
    """The `x-rate-limit-reset` X would send for a `Retry-After` value, seen from NOW."""
    try:
        return int(NOW.timestamp() + float(retry_after))
    except ValueError:
        return int(parsedate_to_datetime(retry_after).timestamp())


class XHarness(Harness):
    name = "x"
    # All four: the key and token are not signing secrets, but they are the channel's
    # credentials all the same, and stay out of messages and logs.
    secrets: tuple[str, ...] = (CONSUMER_SECRET, ACCESS_TOKEN_SECRET, ACCESS_TOKEN, CONSUMER_KEY)

    def __init__(self, fake: FakeX, transport: str, dead_port: int, media: Path) -> None:
        self.fake = fake
        self.sink = fake.sink  # the contract suite reads what arrived from here
        self.transport = transport
        self.dead_port = dead_port
        self.image = make_image(media, "poster.png", media_id="med-1")

    def credentials(self) -> XCredentials:
        return oauth1_credentials()

    def request_for(self, request: PublishRequest) -> PublishRequest:
        # The shared request names a file that does not exist; upload a real one instead.
        return replace(request, media=(self.image,))

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        return XConnector(
            XConfig(username=USERNAME, api_base=base),
            self.credentials(),
            http,
            now=now,
            outbound=FAKES_ALLOWED,
        )

    def publish(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
        request: PublishRequest = REQUEST,
    ) -> PublishResult | PublishError:
        if request is REQUEST:
            request = self.request_for(request)
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        tweet_id = self.fake.upcoming_tweet_id()
        return PublishResult(tweet_id, f"https://x.com/{USERNAME}/status/{tweet_id}")

    def rate_limit(self, retry_after: str) -> None:
        # X names the end of the window in epoch seconds, not with Retry-After.
        self.fake.answer_next(too_many_requests(reset_epoch(retry_after)), path=TWEETS_PATH)

    def fail_temporarily(self) -> None:
        self.fake.answer_next(server_error(503), path=TWEETS_PATH)

    def kill_credentials(self) -> None:
        self.fake.revoke(ACCESS_TOKEN)

    def refuse_content(self) -> str:
        self.fake.answer_next(text_too_long(), path=TWEETS_PATH)
        return TOO_LONG

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS), path=TWEETS_PATH)

    def hang_up(self) -> None:
        self.fake.answer_next(drop(), path=TWEETS_PATH)

    def deliveries(self) -> int:
        # Posts that reached X: the media upload before a post is not one.
        return len(self.fake.requests_to(TWEETS_PATH))


class XOAuth2Harness(XHarness):
    name = "x_oauth2"
    secrets = (OAUTH2_TOKEN, REFRESH_TOKEN, CLIENT_SECRET)

    def credentials(self) -> XCredentials:
        return oauth2_credentials()

    def request_for(self, request: PublishRequest) -> PublishRequest:
        return replace(request, media=())

    def kill_credentials(self) -> None:
        # The access token expired and the refresh token was revoked: no way back.
        self.fake.revoke(OAUTH2_TOKEN)
        self.fake.revoke_refresh(REFRESH_TOKEN)


def _fake(request: pytest.FixtureRequest) -> FakeX:
    fake = FakeX().start()
    request.addfinalizer(fake.stop)
    return fake


def x_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    return XHarness(_fake(request), transport, dead_port, request.getfixturevalue("tmp_path"))


def x_oauth2_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    return XOAuth2Harness(_fake(request), transport, dead_port, request.getfixturevalue("tmp_path"))


HARNESSES = {"x": x_harness, "x_oauth2": x_oauth2_harness}
