"""Bluesky specifics: facets at UTF-8 byte offsets, mentions resolved to DIDs, the
link card, the session life cycle (kept, refreshed, logged in again), its limits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import AuthExpired, MediaFile, PublishError, PublishResult, RateLimited
from connectors.bluesky import BlueskyConfig, BlueskyConnector, BlueskyCredentials
from connectors.bluesky_text import entities
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import REQUEST
from tests.connectors.media_files import make_image
from tests.fakes.bluesky import (
    APP_PASSWORD,
    DID,
    HANDLE,
    KNOWN_HANDLES,
    FakeBluesky,
    rate_limit_exceeded,
)


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky() as server:
        yield server


class Saved:
    def __init__(self) -> None:
        self.changes: list[dict[str, Any]] = []

    async def __call__(self, changed: dict[str, Any]) -> None:
        self.changes.append(changed)


def publish(
    fake: FakeBluesky,
    request: object,
    credentials: BlueskyCredentials | None = None,
    saved: Saved | None = None,
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient() as http:
            made = BlueskyConnector(
                BlueskyConfig(handle=HANDLE, service=fake.url),
                credentials or BlueskyCredentials(app_password=APP_PASSWORD),
                http,
                now=lambda: NOW,
                save_credentials=saved,
            )
            try:
                return await made.publish(request)  # type: ignore[arg-type]
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def text_post(text: str, **changes: object) -> object:
    return replace(REQUEST, text=text, media=(), link=None, **changes)  # type: ignore[arg-type]


# -- facets --------------------------------------------------------------------------


def test_facets_sit_at_utf8_byte_offsets(fake: FakeBluesky) -> None:
    text = "Café ☕ with @alice.bsky.social, #Kitchen and https://example.org/menu."
    outcome = publish(fake, text_post(text))

    assert isinstance(outcome, PublishResult)
    [post] = fake.posts
    raw = text.encode()
    spans = {
        f["features"][0]["$type"].rsplit("#", 1)[1]: raw[
            f["index"]["byteStart"] : f["index"]["byteEnd"]
        ].decode()
        for f in post.record["facets"]
    }
    assert spans == {
        "mention": "@alice.bsky.social",
        "tag": "#Kitchen",
        "link": "https://example.org/menu",
    }
    features = [f["features"][0] for f in post.record["facets"]]
    assert {
        "$type": "app.bsky.richtext.facet#mention",
        "did": KNOWN_HANDLES["alice.bsky.social"],
    } in features
    assert {"$type": "app.bsky.richtext.facet#tag", "tag": "Kitchen"} in features


def test_a_handle_that_does_not_resolve_stays_plain_text(fake: FakeBluesky) -> None:
    outcome = publish(fake, text_post("Thanks @nobody.example.com!"))

    assert isinstance(outcome, PublishResult)
    assert "facets" not in fake.posts[0].record


def test_numbers_and_bare_words_are_not_tags_or_mentions() -> None:
    assert entities("#123 @alice email@example.org #") == []


def test_finding_entities_is_linear_on_hostile_text() -> None:
    hostile = ("@a." * 50_000) + " " + ("#" * 100_000) + " " + ("(" * 100_000)
    assert len(entities(hostile)) <= 1


# -- embeds --------------------------------------------------------------------------


def test_images_go_up_as_blobs_with_their_aspect_ratio(fake: FakeBluesky, tmp_path: Path) -> None:
    image = make_image(tmp_path, size=(640, 480))
    outcome = publish(fake, replace(REQUEST, media=(image,)))

    assert isinstance(outcome, PublishResult)
    embed = fake.posts[0].record["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    [one] = embed["images"]
    assert one["aspectRatio"] == {"width": 640, "height": 480}
    assert one["image"]["ref"]["$link"] in fake.blobs
    [upload] = fake.calls("/xrpc/com.atproto.repo.uploadBlob")
    assert upload.header("content-type") == "image/png"


def test_without_images_the_link_becomes_a_card(fake: FakeBluesky) -> None:
    outcome = publish(fake, replace(REQUEST, media=()))

    assert isinstance(outcome, PublishResult)
    embed = fake.posts[0].record["embed"]
    assert embed == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": REQUEST.link, "title": REQUEST.title, "description": ""},
    }
    assert outcome.permalink == f"https://bsky.app/profile/{HANDLE}/post/{fake.posts[0].rkey}"
    assert outcome.external_id == f"at://{DID}/app.bsky.feed.post/{fake.posts[0].rkey}"


# -- the session ---------------------------------------------------------------------


def test_the_session_is_kept_with_the_credentials(fake: FakeBluesky) -> None:
    saved = Saved()
    publish(fake, text_post("first"), saved=saved)

    [change] = saved.changes
    assert set(change) == {"access_jwt", "refresh_jwt", "did"}
    publish(
        fake,
        text_post("second"),
        credentials=BlueskyCredentials(app_password=APP_PASSWORD, **change),
    )
    assert fake.logins == 1
    assert len(fake.posts) == 2


def test_an_expired_access_token_is_refreshed_without_logging_in(fake: FakeBluesky) -> None:
    saved = Saved()
    publish(fake, text_post("first"), saved=saved)
    fake.expire_access_tokens()

    outcome = publish(
        fake,
        text_post("second"),
        credentials=BlueskyCredentials(app_password=APP_PASSWORD, **saved.changes[0]),
        saved=saved,
    )

    assert isinstance(outcome, PublishResult)
    assert fake.logins == 1
    assert len(fake.calls("/xrpc/com.atproto.server.refreshSession")) == 1
    assert saved.changes[1]["access_jwt"] != saved.changes[0]["access_jwt"]


def test_a_dead_refresh_token_logs_in_again(fake: FakeBluesky) -> None:
    stale = BlueskyCredentials(
        app_password=APP_PASSWORD, access_jwt="acc.old", refresh_jwt="ref.old", did=DID
    )
    outcome = publish(fake, text_post("hello"), credentials=stale)

    assert isinstance(outcome, PublishResult)
    assert fake.logins == 1


def test_a_revoked_app_password_is_auth_expired(fake: FakeBluesky) -> None:
    fake.revoke()

    outcome = publish(fake, text_post("hello"))

    assert isinstance(outcome, AuthExpired)
    assert "Invalid identifier or password" in outcome.message
    assert APP_PASSWORD not in outcome.message


def test_rate_limit_without_retry_after_waits_for_ratelimit_reset(fake: FakeBluesky) -> None:
    reset = NOW + timedelta(minutes=7)
    fake.answer_next(rate_limit_exceeded(reset=int(reset.timestamp())), endpoint="createRecord")

    outcome = publish(fake, text_post("hello"))

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == reset


# -- limits --------------------------------------------------------------------------


def test_300_graphemes_and_3000_bytes() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 1 grapheme, 18 bytes
    fits = BlueskyConnector.validate(text_post("a" * 300))
    too_many = BlueskyConnector.validate(text_post("a" * 301))
    too_big = BlueskyConnector.validate(text_post(family * 167))  # 167 graphemes, 3006 bytes

    assert fits == []
    assert [p.message for p in too_many] == ["301 of 300 graphemes"]
    assert [p.message for p in too_big] == ["3006 of 3000 bytes (UTF-8)"]
    assert BlueskyConnector.measure(text_post(family * 3)).used == 3


def test_images_over_one_million_bytes_and_more_than_four_are_refused(tmp_path: Path) -> None:
    big = MediaFile("m1", "big.jpg", "image/jpeg", 1_000_001, tmp_path / "big.jpg")
    problems = BlueskyConnector.validate(replace(REQUEST, media=(big,)))
    assert [p.field for p in problems] == ["media_ids"]
    assert "1,000,000 bytes" in problems[0].message

    five = tuple(replace(big, id=f"m{i}", size=1000) for i in range(5))
    assert "5 images, the limit is 4" in [
        p.message for p in BlueskyConnector.validate(replace(REQUEST, media=five))
    ]
