"""The YouTube connector in the contract suite, against tests.fakes.youtube.

The shared request carries an image and angle brackets in its text; YouTube takes one
video and refuses `<` `>` in descriptions, so this harness publishes the same post with a
real (small) MP4 and the brackets removed. "Deliveries" are videos.insert calls (upload
sessions opened): one per publish, whatever the number of chunks.

Where "no answer" is tested, it is the answer to the chunk that completes the upload that
is lost (and every later answer about that session): that is when YouTube's outcome is
truly unknown. A lost answer before that is Transient (see connectors/youtube.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector, PublishError, PublishRequest, PublishResult
from connectors.youtube import YouTubeConfig, YouTubeConnector, YouTubeCredentials
from tests.connectors.harnesses import HANG_SECONDS, REQUEST, Harness
from tests.connectors.media_files import make_video
from tests.fakes.youtube import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    UPLOAD_PATH,
    FakeYouTube,
    google_error,
)

HARNESS_RESUMES = 2  # keeps the "no answer" cases short: each lost answer costs a timeout


class YouTubeHarness(Harness):
    name = "youtube"

    def __init__(self, fake: FakeYouTube, transport: str, dead_port: int, media: Path) -> None:
        self.fake = fake
        self.sink = fake.sink  # the contract suite reads what arrived from here
        self.transport = transport
        self.dead_port = dead_port
        self.video = make_video(media, "bake-sale.mp4", media_id="med-1")

    @property
    def secrets(self) -> tuple[str, ...]:  # type: ignore[override]
        # Read after the scenarios ran, so the tokens the fake issued are included. (The
        # session URIs are not: httpcore's DEBUG log prints response headers, Location
        # included; the connector's own messages never name them, see test_youtube.py.)
        return (REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN, *self.fake.issued)

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        return YouTubeConnector(
            YouTubeConfig(api_base=base, token_url=f"{base}/token", privacy_status="unlisted"),
            YouTubeCredentials(
                refresh_token=REFRESH_TOKEN,
                client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET,
                access_token=ACCESS_TOKEN,
            ),
            http,
            now=now,
            max_resumes=HARNESS_RESUMES,
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
            request = replace(
                REQUEST,
                text=REQUEST.text.replace("<", "").replace(">", ""),
                media=(self.video,),
            )
        return super().publish(now=now, timeout=timeout, refused=refused, request=request)

    def succeed(self) -> PublishResult:
        video_id = self.fake.upcoming_video_id()
        return PublishResult(video_id, f"https://www.youtube.com/watch?v={video_id}")

    def rate_limit(self, retry_after: str) -> None:
        # Google documents no Retry-After on its 403 rate limits; the contract suite names
        # its wait in one, so this answer carries it (the connector honours it when present).
        self.fake.answer_next(
            google_error("userRateLimitExceeded", headers={"Retry-After": retry_after})
        )

    def fail_temporarily(self) -> None:
        self.fake.answer_next(google_error("backendError"))

    def kill_credentials(self) -> None:
        self.fake.kill_refresh_token()

    def refuse_content(self) -> str:
        self.fake.answer_next(google_error("forbiddenPrivacySetting"))
        return "The privacy setting of the video is not supported for this channel."

    def hang(self) -> None:
        self.fake.stall_on_completion("hang", HANG_SECONDS)

    def hang_up(self) -> None:
        self.fake.stall_on_completion("drop")

    def deliveries(self) -> int:
        return len([r for r in self.fake.requests if r.method == "POST" and r.path == UPLOAD_PATH])


def youtube_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeYouTube().start()
    request.addfinalizer(fake.stop)
    media: Path = request.getfixturevalue("tmp_path")
    return YouTubeHarness(fake, transport, dead_port, media)


HARNESSES = {"youtube": youtube_harness}
