"""Mastodon specifics: its counting, the idempotency key, media processing, content
warning and visibility, 403 and X-RateLimit-Reset, http instances, the check."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from connectors.base import AuthExpired, CheckResult, Permanent, PublishError, PublishResult
from connectors.base import RateLimited as RateLimitedError
from connectors.mastodon import (
    MastodonConfig,
    MastodonConnector,
    MastodonCredentials,
    countable_text,
    mastodon_length,
)
from connectors.outbound import OutboundPolicy
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import FAKES_ALLOWED, REQUEST
from tests.connectors.media_files import make_image, make_video
from tests.fakes.mastodon import READ_ONLY_TOKEN, TOKEN, FakeMastodon, too_many_requests


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon() as server:
        yield server


def connector(
    http: httpx.AsyncClient,
    fake: FakeMastodon,
    *,
    token: str = TOKEN,
    outbound: OutboundPolicy = FAKES_ALLOWED,
    **config: object,
) -> MastodonConnector:
    made = MastodonConnector(
        MastodonConfig(instance=fake.url, **config),  # type: ignore[arg-type]
        MastodonCredentials(access_token=token),
        http,
        now=lambda: NOW,
        outbound=outbound,
    )
    made.media_poll_seconds = 0.0
    return made


def publish(fake: FakeMastodon, request: object, **kwargs: object) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient() as http:
            try:
                return await connector(http, fake, **kwargs).publish(request)  # type: ignore[arg-type]
            except PublishError as exc:
                return exc

    return asyncio.run(go())


# -- counting ------------------------------------------------------------------------


def test_every_url_counts_23_characters_whatever_its_length() -> None:
    long_url = "https://example.org/" + "a" * 200
    assert mastodon_length(long_url) == 23
    assert mastodon_length(f"see {long_url}.") == 4 + 23 + 1  # the full stop is text
    assert mastodon_length(f"(see {long_url})") == 5 + 23 + 1
    assert mastodon_length(f"({long_url})") == 1 + 23 + 1


def test_a_remote_mention_counts_only_its_local_part() -> None:
    assert mastodon_length("@alice@mastodon.example.org") == len("@alice")
    assert mastodon_length("hi @bob@social.example, hello") == len("hi @bob, hello")
    assert mastodon_length("mail me: name@example.org") == len("mail me: name@example.org")


def test_characters_are_grapheme_clusters() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji of 5 code points
    assert mastodon_length(family + "e\u0301") == 2


def test_measure_is_against_the_default_limit_of_500() -> None:
    measure = MastodonConnector.measure(replace(REQUEST, text="a" * 501))
    assert (measure.used, measure.limit, measure.over) == (501, 500, True)
    url_heavy = replace(REQUEST, text=" ".join(["https://example.org/" + "x" * 100] * 20))
    assert not MastodonConnector.measure(url_heavy).over  # 20 * 23 + 19 = 479


def test_counting_is_linear_on_hostile_text() -> None:
    hostile = "@" * 100_000 + "a@" * 100_000 + "https://" * 50_000
    assert len(countable_text(hostile)) > 0  # finishes: one pass over the text


# -- publishing ----------------------------------------------------------------------


def test_the_status_carries_the_delivery_id_as_idempotency_key(
    fake: FakeMastodon, tmp_path: Path
) -> None:
    request = replace(REQUEST, media=(make_image(tmp_path),))
    first = publish(fake, request)
    again = publish(fake, request)  # a retry after an unknown outcome

    assert isinstance(first, PublishResult) and first == again
    assert [r.header("idempotency-key") for r in fake.calls("/api/v1/statuses")] == [
        REQUEST.delivery_id,
        REQUEST.delivery_id,
    ]
    assert len(fake.statuses) == 1
    assert first.permalink == fake.statuses[0].url


def test_content_warning_and_visibility_are_sent(fake: FakeMastodon) -> None:
    outcome = publish(
        fake,
        replace(REQUEST, media=()),
        visibility="unlisted",
        content_warning="Food, allergens",
    )

    assert isinstance(outcome, PublishResult)
    [status] = fake.statuses
    assert status.params["visibility"] == "unlisted"
    assert status.params["spoiler_text"] == "Food, allergens"
    assert status.params["status"] == REQUEST.text


def test_a_video_is_posted_once_its_processing_is_done(fake: FakeMastodon, tmp_path: Path) -> None:
    fake.polls_needed = 3
    outcome = publish(fake, replace(REQUEST, media=(make_video(tmp_path),)))

    assert isinstance(outcome, PublishResult)
    [status] = fake.statuses
    [media_id] = status.params["media_ids"]
    assert len(fake.calls(f"/api/v1/media/{media_id}")) == 3
    assert fake.media[media_id]["url"]


def test_a_token_without_write_scope_is_auth_expired(fake: FakeMastodon) -> None:
    outcome = publish(fake, replace(REQUEST, media=()), token=READ_ONLY_TOKEN)

    assert isinstance(outcome, AuthExpired)
    assert "outside the authorized scopes" in outcome.message


def test_rate_limit_without_retry_after_waits_for_the_reset_time(fake: FakeMastodon) -> None:
    reset = NOW + timedelta(minutes=3)
    fake.answer_next(
        too_many_requests(reset=reset.isoformat().replace("+00:00", ".000Z")),
        endpoint="statuses",
    )

    outcome = publish(fake, replace(REQUEST, media=()))

    assert isinstance(outcome, RateLimitedError)
    assert outcome.retry_at == reset


def test_rate_limit_without_any_header_waits_five_minutes(fake: FakeMastodon) -> None:
    fake.answer_next(too_many_requests(), endpoint="statuses")

    outcome = publish(fake, replace(REQUEST, media=()))

    assert isinstance(outcome, RateLimitedError)
    assert outcome.retry_at == NOW + timedelta(minutes=5)


def test_too_long_text_is_refused_with_mastodons_words(fake: FakeMastodon) -> None:
    outcome = publish(fake, replace(REQUEST, text="a" * 501, media=()))

    assert isinstance(outcome, Permanent)
    assert "character limit of 500 exceeded" in outcome.message


def test_an_http_instance_not_allowed_by_the_operator_is_refused_before_sending(
    fake: FakeMastodon,
) -> None:
    outcome = publish(fake, replace(REQUEST, media=()), outbound=OutboundPolicy())

    assert isinstance(outcome, Permanent)
    assert "CADENCE_OUTBOUND_ALLOW" in outcome.message
    assert fake.requests == []


def test_https_is_required_in_the_config_schema() -> None:
    with pytest.raises(ValueError):
        MastodonConfig(instance="ftp://social.example")  # type: ignore[arg-type]


def test_check_reads_the_account_and_the_instance_limit(fake: FakeMastodon) -> None:
    fake.max_characters = 1000

    async def go() -> CheckResult:
        async with httpx.AsyncClient() as http:
            return await connector(http, fake).check()

    result = asyncio.run(go())

    assert result.ok, result.detail
    assert result.account["username"] == "kitchen"
    assert result.account["max_characters"] == 1000
    assert fake.statuses == []


def test_check_with_a_revoked_token_says_reconnect(fake: FakeMastodon) -> None:
    fake.revoke()

    async def go() -> CheckResult:
        async with httpx.AsyncClient() as http:
            return await connector(http, fake).check()

    result = asyncio.run(go())

    assert not result.ok and result.credentials_refused
