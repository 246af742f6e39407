"""The YouTube connector against tests.fakes.youtube: the resumable upload, resuming,
token refresh, Google's errors, check(), YouTubeConnector.validate(), and the fake's own protocol rules."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import traceback
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    MediaFile,
    ObjectiveRef,
    Permanent,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.checks import credentials_refused
from connectors.youtube import (
    YouTubeConfig,
    YouTubeConnector,
    YouTubeCredentials,
    next_pacific_midnight,
    tags_for,
)
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import make_client
from tests.connectors.media_files import make_image, mp4_bytes
from tests.fakes.sinks import drop
from tests.fakes.youtube import (
    ACCESS_TOKEN,
    CHANNEL_ID,
    CHANNEL_TITLE,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    UNIT,
    FakeYouTube,
    google_error,
    unauthenticated,
)

VIDEO_SIZE = 700 * 1024 + 123  # three 256 KiB chunks, the last one short
OBJECTIVES = (
    ObjectiveRef("obj-1", "Fundraising events"),
    ObjectiveRef("obj-2", "Support and information"),
)


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeYouTube]:
    with FakeYouTube() as server:
        yield server


def make_video(directory: Path, size: int = VIDEO_SIZE) -> MediaFile:
    """An MP4-looking file of `size` bytes whose content never repeats (a chunk sent at the
    wrong offset could not go unnoticed)."""
    head = mp4_bytes(0)
    data = head + random.Random(20261123).randbytes(size - len(head))
    path = directory / "kitchen-tour.mp4"
    path.write_bytes(data)
    return MediaFile(
        id="med-video", filename=path.name, content_type="video/mp4", size=size, path=path
    )


def post(video: MediaFile, **changes: Any) -> PublishRequest:
    request = PublishRequest(
        delivery_id="dlv-yt-1",
        post_id="post-yt-1",
        text="A tour of the kitchen before Friday's bake sale.",
        title="Kitchen tour",
        link="https://example.org/events/bake-sale",
        media=(video,),
        objectives=OBJECTIVES,
    )
    return replace(request, **changes)


class Saved:
    """A recording save_credentials callback."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, changed: dict[str, Any]) -> None:
        self.calls.append(dict(changed))


def connector_for(
    fake: FakeYouTube,
    http: httpx.AsyncClient,
    *,
    access_token: str | None = ACCESS_TOKEN,
    client_secret: str = CLIENT_SECRET,
    save: Saved | None = None,
    now: datetime = NOW,
    chunk_size: int = UNIT,
    max_resumes: int = 5,
) -> YouTubeConnector:
    return YouTubeConnector(
        YouTubeConfig(api_base=fake.url, token_url=fake.token_url, privacy_status="unlisted"),
        YouTubeCredentials(
            refresh_token=REFRESH_TOKEN,
            client_id=CLIENT_ID,
            client_secret=client_secret,
            access_token=access_token,
        ),
        http,
        now=lambda: now,
        save_credentials=save,
        chunk_size=chunk_size,
        max_resumes=max_resumes,
    )


def publish(
    fake: FakeYouTube,
    request: PublishRequest,
    *,
    transport: str = "httpx",
    timeout: float = 2.0,
    **options: Any,
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with make_client(transport, timeout) as http:
            try:
                return await connector_for(fake, http, **options).publish(request)
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def check(fake: FakeYouTube, **options: Any) -> CheckResult:
    async def go() -> CheckResult:
        async with make_client("httpx", 2.0) as http:
            return await connector_for(fake, http, **options).check()

    return asyncio.run(go())


def ranges(fake: FakeYouTube, endpoint: str = "chunk") -> list[str | None]:
    return [r.header("content-range") for r in fake.requests_to(endpoint)]


def assert_no_secrets(outcome: object, fake: FakeYouTube) -> None:
    text = f"{outcome} {outcome!r}"
    for secret in (REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN, *fake.issued, *fake.upload_ids):
        assert secret not in text


# -- the upload ------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["httpx", "cadence"])
def test_uploads_in_chunks_and_youtube_holds_exactly_the_file(
    fake: FakeYouTube, tmp_path: Path, transport: str
) -> None:
    video = make_video(tmp_path)
    video_id = fake.upcoming_video_id()

    outcome = publish(fake, post(video), transport=transport)

    assert outcome == PublishResult(video_id, f"https://www.youtube.com/watch?v={video_id}")
    assert [v.data for v in fake.videos] == [video.path.read_bytes()]
    total = VIDEO_SIZE
    assert ranges(fake) == [
        f"bytes 0-{UNIT - 1}/{total}",
        f"bytes {UNIT}-{2 * UNIT - 1}/{total}",
        f"bytes {2 * UNIT}-{total - 1}/{total}",
    ]
    assert all(len(r.body) <= UNIT for r in fake.requests_to("chunk"))
    (start,) = fake.requests_to("initiate")
    assert start.query == "uploadType=resumable&part=snippet,status"
    assert start.header("authorization") == f"Bearer {ACCESS_TOKEN}"
    assert start.header("content-type") == "application/json; charset=UTF-8"
    assert start.header("x-upload-content-length") == str(total)
    assert start.header("x-upload-content-type") == "video/mp4"
    assert start.json() == {
        "snippet": {
            "title": "Kitchen tour",
            "description": "A tour of the kitchen before Friday's bake sale.\n\n"
            "https://example.org/events/bake-sale",
            "tags": ["Fundraising events", "Support and information"],
            "categoryId": "22",
        },
        "status": {"privacyStatus": "unlisted"},
    }
    assert fake.videos[0].status["privacyStatus"] == "unlisted"
    assert fake.requests_to("token") == []  # the stored access token was good


@pytest.mark.parametrize("completion", [200, 201])
def test_either_success_status_ends_the_upload(tmp_path: Path, completion: int) -> None:
    with FakeYouTube(completion_status=completion) as fake:
        video_id = fake.upcoming_video_id()
        outcome = publish(fake, post(make_video(tmp_path)))

    assert outcome == PublishResult(video_id, f"https://www.youtube.com/watch?v={video_id}")


@pytest.mark.parametrize("transport", ["httpx", "cadence"])
def test_a_chunk_cut_midway_resumes_from_what_youtube_kept(
    fake: FakeYouTube, tmp_path: Path, transport: str
) -> None:
    video = make_video(tmp_path)
    fake.drop_chunk(2)  # the second chunk's connection is cut halfway through its body

    outcome = publish(fake, post(video), transport=transport)

    assert isinstance(outcome, PublishResult), outcome
    assert [v.data for v in fake.videos] == [video.path.read_bytes()]
    total = VIDEO_SIZE
    assert ranges(fake) == [
        f"bytes 0-{UNIT - 1}/{total}",
        f"bytes {UNIT}-{2 * UNIT - 1}/{total}",  # cut
        f"bytes {UNIT}-{2 * UNIT - 1}/{total}",  # sent again from where YouTube stood
        f"bytes {2 * UNIT}-{total - 1}/{total}",
    ]
    assert len(fake.sessions) == 1
    if transport == "httpx":
        assert ranges(fake, "status") == [f"bytes */{total}"]
    # else aiohttp (production's transport) may resend an idempotent PUT by itself once
    # when the server drops a kept-alive connection: harmless here, as chunks are
    # idempotent and YouTube ignores bytes it already holds.


def test_resumes_from_the_range_youtube_reports_not_from_what_was_sent(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    video = make_video(tmp_path)
    # 512 KiB chunks; the first is cut after 256 KiB + a bit: YouTube keeps 256 KiB of it.
    fake.drop_chunk(1, cut_after=UNIT + 1000)

    outcome = publish(fake, post(video), chunk_size=2 * UNIT)

    assert isinstance(outcome, PublishResult), outcome
    assert [v.data for v in fake.videos] == [video.path.read_bytes()]
    assert ranges(fake) == [
        f"bytes 0-{2 * UNIT - 1}/{VIDEO_SIZE}",
        f"bytes {UNIT}-{VIDEO_SIZE - 1}/{VIDEO_SIZE}",
    ]


def test_a_308_that_kept_part_of_a_chunk_moves_the_next_chunk_back(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    video = make_video(tmp_path)
    fake.short_keep(1, UNIT)  # 512 KiB sent, 256 KiB kept: 308 Range: bytes=0-262143

    outcome = publish(fake, post(video), chunk_size=2 * UNIT)

    assert isinstance(outcome, PublishResult), outcome
    assert [v.data for v in fake.videos] == [video.path.read_bytes()]
    assert ranges(fake)[1] == f"bytes {UNIT}-{VIDEO_SIZE - 1}/{VIDEO_SIZE}"
    assert ranges(fake, "status") == []


def test_a_5xx_on_a_chunk_asks_for_the_state_and_resumes(fake: FakeYouTube, tmp_path: Path) -> None:
    video = make_video(tmp_path)
    fake.fail_chunk(2, 503)

    outcome = publish(fake, post(video))

    assert isinstance(outcome, PublishResult), outcome
    assert [v.data for v in fake.videos] == [video.path.read_bytes()]
    assert ranges(fake, "status") == [f"bytes */{VIDEO_SIZE}"]


def test_an_expired_session_is_transient_and_the_next_attempt_starts_over(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    video = make_video(tmp_path)
    fake.expire_at_chunk(2)

    first = publish(fake, post(video))
    second = publish(fake, post(video))

    assert isinstance(first, Transient), first
    assert "expired" in first.message and "starts the upload over" in first.message
    assert_no_secrets(first, fake)
    assert isinstance(second, PublishResult), second
    assert len(fake.sessions) == 2
    assert [v.data for v in fake.videos] == [video.path.read_bytes()]


def test_a_lost_final_answer_is_settled_by_asking_the_session(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    video = make_video(tmp_path)
    # The whole last chunk arrives (the video now exists), then the connection is cut.
    last = VIDEO_SIZE - 2 * UNIT
    fake.drop_chunk(3, cut_after=last)
    video_id = fake.upcoming_video_id()

    outcome = publish(fake, post(video))

    assert outcome == PublishResult(video_id, f"https://www.youtube.com/watch?v={video_id}")
    assert ranges(fake, "status") == [f"bytes */{VIDEO_SIZE}"]
    assert len(fake.videos) == 1


def test_a_final_answer_nobody_can_settle_is_ambiguous(fake: FakeYouTube, tmp_path: Path) -> None:
    video = make_video(tmp_path)
    fake.stall_on_completion("drop")  # completed, then every answer about it is lost

    outcome = publish(fake, post(video), max_resumes=2)

    assert isinstance(outcome, Ambiguous), outcome
    assert "may exist" in outcome.message
    assert len(fake.videos) == 1  # and indeed it does: retrying blindly would duplicate it
    assert len(fake.requests_to("status")) == 2
    assert_no_secrets(outcome, fake)


def test_a_final_answer_that_times_out_is_ambiguous(fake: FakeYouTube, tmp_path: Path) -> None:
    video = make_video(tmp_path)
    fake.stall_on_completion("hang", 5.0)

    outcome = publish(fake, post(video), timeout=0.2, max_resumes=1)

    assert isinstance(outcome, Ambiguous), outcome


def test_interruptions_before_the_last_byte_are_transient(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    video = make_video(tmp_path)
    fake.drop_chunk(1)
    fake.answer_next(drop(), endpoint="status")

    outcome = publish(fake, post(video), max_resumes=1)

    assert isinstance(outcome, Transient), outcome
    assert "nothing was published" in outcome.message
    assert fake.videos == []
    assert_no_secrets(outcome, fake)


def test_no_answer_to_the_initiation_is_transient_not_ambiguous(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    video = make_video(tmp_path)
    fake.answer_next(drop(), endpoint="initiate")

    outcome = publish(fake, post(video))

    assert isinstance(outcome, Transient), outcome
    assert "nothing was published" in outcome.message


def test_a_5xx_on_the_initiation_is_transient(fake: FakeYouTube, tmp_path: Path) -> None:
    fake.answer_next(google_error("backendError"), endpoint="initiate")

    outcome = publish(fake, post(make_video(tmp_path)))

    assert isinstance(outcome, Transient), outcome
    assert "Backend Error" in outcome.message


def test_an_unreadable_media_file_is_permanent(fake: FakeYouTube, tmp_path: Path) -> None:
    video = replace(make_video(tmp_path), path=tmp_path / "gone.mp4")

    outcome = publish(fake, post(video))

    assert isinstance(outcome, Permanent), outcome
    assert outcome.code == "media_missing"
    assert fake.requests == []


# -- the access token ------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_once_and_saved(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    saved = Saved()
    fake.expire_access_token(ACCESS_TOKEN)

    outcome = publish(fake, post(make_video(tmp_path)), save=saved)

    assert isinstance(outcome, PublishResult), outcome
    (new_token,) = fake.issued
    assert saved.calls == [{"access_token": new_token}]
    (refresh,) = fake.requests_to("token")
    assert refresh.header("content-type") == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(refresh.text)) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    first, second = fake.requests_to("initiate")
    assert first.header("authorization") == f"Bearer {ACCESS_TOKEN}"
    assert second.header("authorization") == f"Bearer {new_token}"


def test_a_missing_access_token_is_fetched_before_the_upload(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    saved = Saved()

    outcome = publish(fake, post(make_video(tmp_path)), access_token=None, save=saved)

    assert isinstance(outcome, PublishResult), outcome
    assert saved.calls == [{"access_token": fake.issued[0]}]
    assert [r.path for r in fake.requests[:2]] == ["/token", "/upload/youtube/v3/videos"]


def test_a_dead_refresh_token_means_the_channel_needs_reconnecting(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    saved = Saved()
    fake.kill_refresh_token()

    outcome = publish(fake, post(make_video(tmp_path)), save=saved)

    assert isinstance(outcome, AuthExpired), outcome
    assert "invalid_grant" in outcome.message and "reconnecting" in outcome.message
    assert saved.calls == []
    assert fake.videos == []
    assert_no_secrets(outcome, fake)


def test_a_wrong_client_secret_means_the_channel_needs_reconnecting(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    outcome = publish(
        fake, post(make_video(tmp_path)), access_token=None, client_secret="GOCSPX-wrong-one"
    )

    assert isinstance(outcome, AuthExpired), outcome
    assert "invalid_client" in outcome.message
    assert "GOCSPX-wrong-one" not in str(outcome)


def test_a_401_after_the_refresh_is_auth_expired(fake: FakeYouTube, tmp_path: Path) -> None:
    saved = Saved()
    fake.answer_next(unauthenticated(), unauthenticated(), endpoint="initiate")

    outcome = publish(fake, post(make_video(tmp_path)), save=saved)

    assert isinstance(outcome, AuthExpired), outcome
    assert len(fake.requests_to("token")) == 1  # refreshed once, not in a loop
    assert len(saved.calls) == 1
    assert_no_secrets(outcome, fake)


def test_tokens_and_session_uris_stay_out_of_messages_and_our_logs(
    fake: FakeYouTube, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.expire_access_token(ACCESS_TOKEN)  # a refresh, then
    fake.drop_chunk(2)  # a resume, then
    fake.stall_on_completion("drop")  # an upload nobody confirms

    outcome = publish(fake, post(make_video(tmp_path)), max_resumes=2)

    assert isinstance(outcome, Ambiguous), outcome
    assert fake.issued and fake.upload_ids
    texts = [str(outcome), repr(outcome), "".join(traceback.format_exception(outcome))]
    # httpcore's DEBUG trace prints response headers (Location names the session): it is
    # the transport's log, not ours, and it is off unless someone asks for DEBUG.
    texts += [
        r.getMessage() + repr(r.__dict__)
        for r in caplog.records
        if not r.name.startswith(("httpcore", "aiohttp"))
    ]
    assert any(r.name == "connectors.youtube" for r in caplog.records)
    secrets = (REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN, *fake.issued, *fake.upload_ids)
    for secret in secrets:
        for text in texts:
            assert secret not in text


# -- Google's errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "midnight"),
    [
        # 01:00 PST on 23 November -> midnight PST (UTC-8) on the 24th
        (NOW, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
        # 05:00 PDT on 1 July -> midnight PDT (UTC-7) on the 2nd
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 2, 7, 0, tzinfo=UTC)),
        # 23:30 PST on 7 March; the clocks go forward that night at 02:00 -> still UTC-8
        (datetime(2026, 3, 8, 7, 30, tzinfo=UTC), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
        # 00:00 PDT on 1 November exactly; that night the clocks go back -> 2 Nov 00:00 PST
        (datetime(2026, 11, 1, 7, 0, tzinfo=UTC), datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),
    ],
)
def test_quota_exceeded_waits_until_the_next_pacific_midnight(
    fake: FakeYouTube, tmp_path: Path, now: datetime, midnight: datetime
) -> None:
    fake.answer_next(google_error("quotaExceeded"), endpoint="initiate")

    outcome = publish(fake, post(make_video(tmp_path)), now=now)

    assert isinstance(outcome, RateLimited), outcome
    assert outcome.retry_at == midnight
    assert next_pacific_midnight(now) == midnight
    assert "exceeded your quota" in outcome.message  # Google's words, its HTML removed


def test_upload_limit_exceeded_waits_a_day(fake: FakeYouTube, tmp_path: Path) -> None:
    fake.answer_next(google_error("uploadLimitExceeded"), endpoint="initiate")

    outcome = publish(fake, post(make_video(tmp_path)))

    assert isinstance(outcome, RateLimited), outcome
    assert outcome.retry_at == NOW + timedelta(hours=24)
    assert "exceeded the number of videos they may upload" in outcome.message


@pytest.mark.parametrize("reason", ["rateLimitExceeded", "userRateLimitExceeded"])
def test_rate_limits_wait_a_minute_or_what_retry_after_says(
    fake: FakeYouTube, tmp_path: Path, reason: str
) -> None:
    video = make_video(tmp_path)
    fake.answer_next(google_error(reason), endpoint="initiate")
    plain = publish(fake, post(video))
    fake.answer_next(google_error(reason, headers={"Retry-After": "120"}), endpoint="initiate")
    named = publish(fake, post(video))

    assert isinstance(plain, RateLimited) and isinstance(named, RateLimited)
    assert plain.retry_at == NOW + timedelta(seconds=60)
    assert named.retry_at == NOW + timedelta(seconds=120)


def test_an_invalid_title_is_permanent_with_googles_message(
    fake: FakeYouTube, tmp_path: Path
) -> None:
    # Not validated first: the fake refuses it as YouTube does.
    outcome = publish(fake, post(make_video(tmp_path), title="Bake sale <Friday>"))

    assert isinstance(outcome, Permanent), outcome
    assert outcome.code == "invalidTitle"
    assert "The request metadata specifies an invalid or empty video title." in outcome.message
    assert fake.sessions == {}


def test_an_invalid_description_is_permanent(fake: FakeYouTube, tmp_path: Path) -> None:
    outcome = publish(fake, post(make_video(tmp_path), text="é" * 2600, link=None))

    assert isinstance(outcome, Permanent), outcome
    assert outcome.code == "invalidDescription"


@pytest.mark.parametrize("reason", ["forbidden", "forbiddenPrivacySetting"])
def test_forbidden_is_permanent(fake: FakeYouTube, tmp_path: Path, reason: str) -> None:
    fake.answer_next(google_error(reason), endpoint="initiate")

    outcome = publish(fake, post(make_video(tmp_path)))

    assert isinstance(outcome, Permanent), outcome
    assert outcome.code == reason


# -- check -----------------------------------------------------------------------------------


def test_check_names_the_channel(fake: FakeYouTube) -> None:
    result = check(fake)

    assert result.ok, result.detail
    assert CHANNEL_TITLE in result.detail
    assert result.account == {"id": CHANNEL_ID, "title": CHANNEL_TITLE}
    (call,) = fake.requests_to("channels")
    assert call.query == "part=id,snippet&mine=true"
    assert call.header("authorization") == f"Bearer {ACCESS_TOKEN}"


def test_check_refreshes_a_missing_token(fake: FakeYouTube) -> None:
    saved = Saved()

    result = check(fake, access_token=None, save=saved)

    assert result.ok, result.detail
    assert saved.calls == [{"access_token": fake.issued[0]}]


def test_check_reports_a_dead_refresh_token(fake: FakeYouTube) -> None:
    fake.kill_refresh_token()

    result = check(fake)

    assert not result.ok
    assert "reconnect the channel" in result.detail
    assert credentials_refused(result)  # the app marks the channel needs_reconnect


def test_check_reports_an_unreachable_youtube_as_not_refused(fake: FakeYouTube) -> None:
    fake.answer_next(google_error("backendError"), endpoint="channels")

    result = check(fake)

    assert not result.ok
    assert not credentials_refused(result)


def test_check_reports_an_account_without_a_channel() -> None:
    with FakeYouTube(has_channel=False) as fake:
        result = check(fake)

    assert not result.ok
    assert "no YouTube channel" in result.detail


# -- validate, helpers ------------------------------------------------------------------------


def test_validate(tmp_path: Path) -> None:
    video = make_video(tmp_path, size=4096)
    image = make_image(tmp_path)

    def fields(**changes: Any) -> list[str]:
        return [p.field for p in YouTubeConnector.validate(post(video, **changes))]

    assert fields() == []
    assert fields(title="x" * 100) == []
    assert fields(title="x" * 101) == ["title"]
    assert fields(title="  ") == ["title"]
    assert fields(title=None) == ["title"]
    assert fields(title="Bake <sale>") == ["title"]
    assert fields(text="é" * 2500) == []  # 5000 bytes
    assert fields(text="é" * 2501) == ["text"]
    assert fields(text="cakes > pies") == ["text"]
    assert fields(media=()) == ["media_ids"]
    assert fields(media=(video, video)) == ["media_ids"]
    assert fields(media=(image,)) == ["media_ids"]
    assert fields(media=(video, image)) == ["media_ids"]
    assert fields(media=(replace(video, content_type="video/x-matroska"),)) == ["media_ids"]


def test_tags_keep_within_youtubes_500_characters() -> None:
    names = [ObjectiveRef(f"o{i}", f"Objective number {i:03d}") for i in range(40)]
    names.append(ObjectiveRef("dup", "Objective number 000"))

    tags = tags_for(tuple(names))

    assert tags[0] == "Objective number 000" and len(set(tags)) == len(tags)
    assert sum(len(t) + 2 for t in tags) + len(tags) - 1 <= 500
    assert tags_for((ObjectiveRef("x", "Cakes, <pies>"),)) == ["Cakes pies"]


def test_chunk_size_must_be_a_multiple_of_256_kib() -> None:
    config = YouTubeConfig()
    credentials = YouTubeCredentials(
        refresh_token=REFRESH_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )

    async def build(chunk_size: int) -> YouTubeConnector:
        async with httpx.AsyncClient() as http:
            return YouTubeConnector(config, credentials, http, chunk_size=chunk_size)

    with pytest.raises(ValueError):
        asyncio.run(build(300_000))
    assert asyncio.run(build(4 * UNIT)).chunk_size == 4 * UNIT


# -- the fake follows Google's upload protocol ----------------------------------------------------


def test_the_fake_refuses_gaps_and_short_chunks_and_keeps_whole_units(fake: FakeYouTube) -> None:
    total = 3 * UNIT
    body = json.dumps({"snippet": {"title": "t"}, "status": {"privacyStatus": "private"}})
    with httpx.Client() as http:
        started = http.post(
            f"{fake.url}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
            content=body,
            headers={
                "Authorization": f"Bearer {ACCESS_TOKEN}",
                "Content-Type": "application/json; charset=UTF-8",
                "X-Upload-Content-Length": str(total),
                "X-Upload-Content-Type": "video/mp4",
            },
        )
        session = started.headers["location"]

        def put(first: int, size: int) -> httpx.Response:
            return http.put(
                session,
                content=bytes(size),
                headers={"Content-Range": f"bytes {first}-{first + size - 1}/{total}"},
            )

        gap = put(UNIT, UNIT)
        short = put(0, 1000)
        partial = put(0, UNIT + 5000)
        nothing_new = http.put(session, headers={"Content-Range": f"bytes */{total}"})

    assert started.status_code == 200
    assert gap.status_code == 400 and "exceeds already uploaded size of 0" in gap.text
    assert short.status_code == 400 and "262144" in short.text
    assert partial.status_code == 308 and partial.headers["range"] == f"bytes=0-{UNIT - 1}"
    assert nothing_new.status_code == 308 and nothing_new.headers["range"] == f"bytes=0-{UNIT - 1}"
