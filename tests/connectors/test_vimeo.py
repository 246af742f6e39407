"""Vimeo specifics: the tus upload in chunks, resuming after a lost chunk, an upload
that cannot finish, scopes and quota, the rate-limit reset, its rules."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from connectors.base import (
    Ambiguous,
    AuthExpired,
    Permanent,
    PublishError,
    PublishResult,
    RateLimited,
)
from connectors.vimeo import VimeoConfig, VimeoConnector, VimeoCredentials
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import REQUEST
from tests.connectors.media_files import make_image, make_video
from tests.fakes.vimeo import (
    NO_UPLOAD_TOKEN,
    TOKEN,
    FakeVimeo,
    too_many,
    unavailable,
    vimeo_error,
)

CHUNK = 1000


@pytest.fixture
def fake() -> Iterator[FakeVimeo]:
    with FakeVimeo() as server:
        yield server


def publish(
    fake: FakeVimeo, request: object, *, token: str = TOKEN, privacy: str = "anybody"
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient() as http:
            made = VimeoConnector(
                VimeoConfig(api_base=fake.url, privacy=privacy),  # type: ignore[arg-type]
                VimeoCredentials(access_token=token),
                http,
                now=lambda: NOW,
            )
            made.chunk_bytes = CHUNK
            try:
                return await made.publish(request)  # type: ignore[arg-type]
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def test_the_video_goes_up_in_tus_chunks(fake: FakeVimeo, tmp_path: Path) -> None:
    video = make_video(tmp_path)
    outcome = publish(fake, replace(REQUEST, media=(video,)), privacy="unlisted")

    assert isinstance(outcome, PublishResult)
    [made] = fake.videos.values()
    assert bytes(made.data) == video.path.read_bytes()
    assert made.params["name"] == REQUEST.title
    assert made.params["description"] == REQUEST.text
    assert made.params["privacy"] == {"view": "unlisted"}
    patches = fake.calls(f"/tus/files/{made.id}")
    assert len(patches) == -(-video.size // CHUNK)
    assert [p.header("upload-offset") for p in patches[:3]] == ["0", "1000", "2000"]
    assert all(p.header("tus-resumable") == "1.0.0" for p in patches)
    assert outcome == PublishResult(made.id, made.link)


def test_a_lost_chunk_is_resumed_from_the_servers_offset(fake: FakeVimeo, tmp_path: Path) -> None:
    video = make_video(tmp_path)
    fake.drop_chunk(2)

    outcome = publish(fake, replace(REQUEST, media=(video,)))

    assert isinstance(outcome, PublishResult)
    [made] = fake.videos.values()
    assert bytes(made.data) == video.path.read_bytes()
    methods = [r.method for r in fake.calls(f"/tus/files/{made.id}")]
    assert methods[:4] == ["PATCH", "PATCH", "HEAD", "PATCH"]


def test_an_upload_that_cannot_finish_is_ambiguous_not_retried(
    fake: FakeVimeo, tmp_path: Path
) -> None:
    fake.answer_next(*[unavailable()] * 10, endpoint="patch")  # the upload server is down

    outcome = publish(fake, replace(REQUEST, media=(make_video(tmp_path),)))

    assert isinstance(outcome, Ambiguous)
    assert "no second video" in outcome.message
    assert len(fake.videos) == 1


def test_the_title_defaults_to_the_file_name(fake: FakeVimeo, tmp_path: Path) -> None:
    publish(fake, replace(REQUEST, title=None, media=(make_video(tmp_path, "tour.mp4"),)))

    [made] = fake.videos.values()
    assert made.params["name"] == "tour.mp4"


def test_a_token_without_the_upload_scope_is_auth_expired(fake: FakeVimeo, tmp_path: Path) -> None:
    outcome = publish(fake, replace(REQUEST, media=(make_video(tmp_path),)), token=NO_UPLOAD_TOKEN)

    assert isinstance(outcome, AuthExpired)


def test_a_used_up_quota_is_permanent(fake: FakeVimeo, tmp_path: Path) -> None:
    fake.answer_next(
        vimeo_error(403, 4102, "The user's upload quota has been exceeded."), endpoint="create"
    )

    outcome = publish(fake, replace(REQUEST, media=(make_video(tmp_path),)))

    assert isinstance(outcome, Permanent)
    assert outcome.code == "vimeo_4102"


def test_rate_limit_without_retry_after_waits_for_the_reset(
    fake: FakeVimeo, tmp_path: Path
) -> None:
    reset = NOW + timedelta(minutes=4)
    fake.answer_next(too_many(reset=reset.isoformat()), endpoint="create")

    outcome = publish(fake, replace(REQUEST, media=(make_video(tmp_path),)))

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == reset


def test_exactly_one_video(tmp_path: Path) -> None:
    image = make_image(tmp_path)
    video = make_video(tmp_path)
    for media in ((), (image,), (video, video)):
        problems = VimeoConnector.validate(replace(REQUEST, media=media))
        assert "media_ids" in [p.field for p in problems], media
    assert VimeoConnector.validate(replace(REQUEST, text="", media=(video,))) == []
