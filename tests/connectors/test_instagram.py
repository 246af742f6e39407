"""Instagram specifics: containers by URL (image, reel, carousel), waiting for
FINISHED, a failed container, the 24-hour publishing limit, its rules."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from connectors.base import Permanent, PublishError, PublishResult, RateLimited
from connectors.instagram import InstagramConfig, InstagramConnector, InstagramCredentials
from tests.connectors.conftest import NOW
from tests.connectors.harness_instagram import JPEG
from tests.connectors.harnesses import REQUEST
from tests.fakes.facebook import graph_error
from tests.fakes.instagram import IG_USER_ID, TOKEN, FakeInstagram

VIDEO = replace(
    JPEG,
    id="med-2",
    filename="tour.mp4",
    content_type="video/mp4",
    width=None,
    height=None,
    url="http://cadence.test/media/med-2/tour.mp4",
)


@pytest.fixture
def fake() -> Iterator[FakeInstagram]:
    with FakeInstagram() as server:
        yield server


def publish(fake: FakeInstagram, request: object) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient() as http:
            made = InstagramConnector(
                InstagramConfig(ig_user_id=IG_USER_ID, api_base=fake.url),
                InstagramCredentials(page_access_token=TOKEN),
                http,
                now=lambda: NOW,
            )
            made.poll_seconds = 0.0
            try:
                return await made.publish(request)  # type: ignore[arg-type]
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def test_an_image_goes_by_its_url_and_is_published_once_finished(fake: FakeInstagram) -> None:
    fake.polls_needed = 3
    outcome = publish(fake, replace(REQUEST, media=(JPEG,), link=None))

    assert isinstance(outcome, PublishResult)
    [(media_id, container)] = fake.published.items()
    assert container.fields["image_url"] == JPEG.url
    assert container.fields["caption"] == REQUEST.text
    assert container.reads == 3
    assert outcome == PublishResult(media_id, fake.permalink(media_id))


def test_a_video_is_a_reel(fake: FakeInstagram) -> None:
    outcome = publish(fake, replace(REQUEST, media=(VIDEO,)))

    assert isinstance(outcome, PublishResult)
    [container] = fake.published.values()
    assert container.fields["media_type"] == "REELS"
    assert container.fields["video_url"] == VIDEO.url
    assert container.fields["caption"].endswith(REQUEST.link or "")


def test_several_images_are_a_carousel(fake: FakeInstagram) -> None:
    second = replace(JPEG, id="med-3", url="http://cadence.test/media/med-3/b.jpg")
    outcome = publish(fake, replace(REQUEST, media=(JPEG, second)))

    assert isinstance(outcome, PublishResult)
    [container] = fake.published.values()
    assert container.fields["media_type"] == "CAROUSEL"
    children = container.fields["children"].split(",")
    assert [fake.containers[c].fields["image_url"] for c in children] == [JPEG.url, second.url]
    assert all(fake.containers[c].fields["is_carousel_item"] == "true" for c in children)


def test_a_container_in_error_is_permanent_and_nothing_is_published(fake: FakeInstagram) -> None:
    fake.fail_next_container("ERROR")

    outcome = publish(fake, replace(REQUEST, media=(JPEG,)))

    assert isinstance(outcome, Permanent)
    assert "ERROR" in outcome.message
    assert fake.published == {}


def test_the_24_hour_publishing_limit_waits_a_day(fake: FakeInstagram) -> None:
    fake.answer_next(
        graph_error(9, "Application request limit reached", subcode=2207042),
        endpoint="media_publish",
    )

    outcome = publish(fake, replace(REQUEST, media=(JPEG,)))

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(hours=24)


def test_a_file_without_a_public_url_is_refused_before_any_call(fake: FakeInstagram) -> None:
    outcome = publish(fake, replace(REQUEST, media=(replace(JPEG, url=None),)))

    assert isinstance(outcome, Permanent)
    assert "CADENCE_BASE_URL" in outcome.message
    assert fake.requests == []


def test_rules_media_hashtags_mentions_ratio_and_type() -> None:
    def problems(**changes: object) -> list[str]:
        request = replace(REQUEST, **{"media": (JPEG,), **changes})  # type: ignore[arg-type]
        return [p.message for p in InstagramConnector.validate(request)]

    assert problems() == []
    assert problems(media=()) == ["Instagram needs an image or a video"]
    assert problems(text=" ".join(f"#t{i}" for i in range(31))) == [
        "31 hashtags, Instagram takes at most 30"
    ]
    assert problems(text=" ".join(f"@u{i}" for i in range(21))) == [
        "21 mentions, Instagram takes at most 20"
    ]
    assert problems(text="#1 " * 30 + "# ## #") == []
    wide = replace(JPEG, width=2000, height=1000)
    tall = replace(JPEG, width=1000, height=1500)
    assert "4:5" in problems(media=(wide,))[0]
    assert "4:5" in problems(media=(tall,))[0]
    assert problems(media=(replace(JPEG, width=1080, height=1350),)) == []
    png = replace(JPEG, content_type="image/png")
    assert "image/png is not accepted" in problems(media=(png,))[0]
