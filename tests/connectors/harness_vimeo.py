"""The Vimeo connector in the contract suite, against tests.fakes.vimeo.

The post carries a small MP4; every scripted answer is for `POST /me/videos`, the
request that makes the video, so each case is about publishing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.vimeo import VimeoConfig, VimeoConnector, VimeoCredentials
from tests.connectors.harnesses import HANG_SECONDS, REQUEST, FakePlatformHarness, Harness
from tests.connectors.media_files import make_video
from tests.fakes.sinks import drop, hang
from tests.fakes.vimeo import TOKEN, FakeVimeo, too_many, unavailable, vimeo_error

CREATE = "create"


class VimeoHarness(FakePlatformHarness):
    name = "vimeo"
    secrets = (TOKEN,)

    def __init__(self, fake: FakeVimeo, transport: str, dead_port: int, media: Path) -> None:
        super().__init__(fake, transport, dead_port)
        self.video = make_video(media, "tour.mp4", media_id="med-1")

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        return VimeoConnector(
            VimeoConfig(api_base=base), VimeoCredentials(access_token=TOKEN), http, now=now
        )

    def publish(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
        request: PublishRequest = REQUEST,
    ) -> PublishResult | PublishError:
        if request is REQUEST:  # Vimeo takes one video
            request = replace(REQUEST, media=(self.video,))
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        video_id = self.fake.next_video_id()
        return PublishResult(video_id, f"https://vimeo.com/{video_id}")

    def rate_limit(self, retry_after: str) -> None:
        self.fake.answer_next(too_many(retry_after), endpoint=CREATE)

    def fail_temporarily(self) -> None:
        self.fake.answer_next(unavailable(), endpoint=CREATE)

    def kill_credentials(self) -> None:
        self.fake.revoke()

    def refuse_content(self) -> str:
        words = "The parameters passed to this API endpoint didn't pass Vimeo's validation"
        self.fake.answer_next(vimeo_error(400, 2204, words + " checks."), endpoint=CREATE)
        return words

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS), endpoint=CREATE)

    def hang_up(self) -> None:
        self.fake.answer_next(drop(), endpoint=CREATE)

    def deliveries(self) -> int:
        return len(self.fake.calls("/me/videos"))


def vimeo_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeVimeo().start()
    request.addfinalizer(fake.stop)
    media: Path = request.getfixturevalue("tmp_path")
    return VimeoHarness(fake, transport, dead_port, media)


HARNESSES = {"vimeo": vimeo_harness}
