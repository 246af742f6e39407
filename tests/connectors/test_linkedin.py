"""LinkedIn specifics: the versioned headers, little-text escaping, images and
articles, 403 and 429 mapping, an expired token, the pixel limit, the check."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import (
    AuthExpired,
    CheckResult,
    MediaFile,
    PublishError,
    PublishResult,
    RateLimited,
)
from connectors.linkedin import (
    LinkedInConfig,
    LinkedInConnector,
    LinkedInCredentials,
    little_text,
)
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import REQUEST
from tests.connectors.media_files import make_image
from tests.fakes.linkedin import ORG_URN, TOKEN, FakeLinkedIn, throttled


@pytest.fixture
def fake() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn() as server:
        yield server


def connector(http: httpx.AsyncClient, fake: FakeLinkedIn, **credentials: Any) -> LinkedInConnector:
    return LinkedInConnector(
        LinkedInConfig(organization_urn=ORG_URN, api_base=fake.url),
        LinkedInCredentials(access_token=TOKEN, **credentials),
        http,
        now=lambda: NOW,
    )


def publish(
    fake: FakeLinkedIn, request: object, **credentials: Any
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient() as http:
            try:
                return await connector(http, fake, **credentials).publish(request)  # type: ignore[arg-type]
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def test_little_text_markup_is_escaped() -> None:
    assert little_text("Cakes (and #tea) @ 3_pm \\o/") == "Cakes \\(and \\#tea\\) \\@ 3\\_pm \\\\o/"


def test_a_link_post_is_an_article_with_the_versioned_headers(fake: FakeLinkedIn) -> None:
    outcome = publish(fake, replace(REQUEST, media=()))

    assert isinstance(outcome, PublishResult)
    [post] = fake.posts
    assert post.body["author"] == ORG_URN
    assert post.body["content"] == {"article": {"source": REQUEST.link, "title": REQUEST.title}}
    assert post.body["commentary"] == little_text(REQUEST.text)
    assert post.body["lifecycleState"] == "PUBLISHED"
    [call] = fake.calls("/rest/posts")
    assert call.header("linkedin-version") == "202511"
    assert call.header("x-restli-protocol-version") == "2.0.0"
    assert outcome == PublishResult(post.urn, f"https://www.linkedin.com/feed/update/{post.urn}/")


def test_several_images_are_uploaded_then_posted_together(
    fake: FakeLinkedIn, tmp_path: Path
) -> None:
    images = (make_image(tmp_path, "a.png"), make_image(tmp_path, "b.png", color="red"))
    outcome = publish(fake, replace(REQUEST, media=images))

    assert isinstance(outcome, PublishResult)
    ids = [i["id"] for i in fake.posts[0].body["content"]["multiImage"]["images"]]
    assert ids == list(fake.images)
    assert [fake.images[i] for i in ids] == [m.path.read_bytes() for m in images]


def test_a_member_without_the_page_role_is_auth_expired(fake: FakeLinkedIn) -> None:
    fake.admin_of.clear()

    outcome = publish(fake, replace(REQUEST, media=()))

    assert isinstance(outcome, AuthExpired)
    assert "ACCESS_DENIED" not in outcome.message  # LinkedIn's words, not its code
    assert "Not enough permissions" in outcome.message


def test_a_daily_throttle_without_retry_after_waits_until_midnight_utc(fake: FakeLinkedIn) -> None:
    fake.answer_next(throttled(), endpoint="posts")

    outcome = publish(fake, replace(REQUEST, media=()))

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == datetime(2026, 11, 24, tzinfo=UTC)


def test_an_expired_token_is_auth_expired_without_a_call(fake: FakeLinkedIn) -> None:
    outcome = publish(fake, replace(REQUEST, media=()), expires_at=NOW - timedelta(seconds=1))

    assert isinstance(outcome, AuthExpired)
    assert fake.requests == []


def test_images_over_the_pixel_limit_are_refused(tmp_path: Path) -> None:
    huge = MediaFile("m", "huge.png", "image/png", 1000, tmp_path / "h.png", 8000, 5000)
    problems = LinkedInConnector.validate(replace(REQUEST, media=(huge,)))
    assert [p.field for p in problems] == ["media_ids"]
    assert "36,152,320 pixels" in problems[0].message


def test_the_organization_urn_is_checked_when_saved() -> None:
    with pytest.raises(ValueError):
        LinkedInConfig(organization_urn="urn:li:person:42")


def test_check_names_the_page(fake: FakeLinkedIn) -> None:
    async def go() -> CheckResult:
        async with httpx.AsyncClient() as http:
            return await connector(http, fake).check()

    result = asyncio.run(go())

    assert result.ok, result.detail
    assert result.account == {"id": ORG_URN, "name": "Community Kitchen"}
    assert fake.posts == []
