"""Yammer specifics: what is posted, what each answer means, the check, validation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.base import (
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
from connectors.yammer import YammerConfig, YammerConnector, YammerCredentials
from tests.connectors.harnesses import REQUEST
from tests.fakes.sinks import json_answer
from tests.fakes.yammer import (
    GROUP_ID,
    TOKEN,
    YammerFake,
    body_blank,
    group_not_found,
    oauth_exception,
    rate_limited,
    server_error,
    unauthorized,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[YammerFake]:
    with YammerFake() as server:
        yield server


def connector(
    http: httpx.AsyncClient, fake: YammerFake, *, token: str = TOKEN, group: str = GROUP_ID
) -> YammerConnector:
    return YammerConnector(
        YammerConfig(group_id=group, api_base=fake.url),
        YammerCredentials(access_token=token),
        http,
        now=lambda: NOW,
    )


def publish(
    fake: YammerFake, request: PublishRequest = REQUEST, **kw: str
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient(timeout=2) as http:
            try:
                return await connector(http, fake, **kw).publish(request)
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def check(fake: YammerFake, **kw: str) -> CheckResult:
    async def go() -> CheckResult:
        async with httpx.AsyncClient(timeout=2) as http:
            return await connector(http, fake, **kw).check()

    return asyncio.run(go())


# -- what is posted -----------------------------------------------------------------------


def test_posts_a_form_to_the_group_with_topics_and_media_links(fake: YammerFake) -> None:
    outcome = publish(fake)

    assert outcome == PublishResult(str(fake.messages[0].id), fake.web_url(fake.messages[0].id))
    (recorded,) = fake.requests
    assert recorded.method == "POST"
    assert recorded.path == "/api/v1/messages.json"
    assert recorded.header("authorization") == f"Bearer {TOKEN}"
    assert recorded.header("content-type") == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(recorded.text).items()}
    assert set(form) == {"body", "group_id", "topic1", "topic2"}
    assert form["group_id"] == GROUP_ID
    assert (form["topic1"], form["topic2"]) == ("Fundraising events", "Support and information")
    assert form["body"] == (
        "Bake sale on Friday in the atrium.\nBring cakes & <friends>!\n\n"
        "https://example.org/events/bake-sale?from=cadence&x=1\n\n"
        "http://cadence.test/media/med-1/poster.png"
    )


def test_a_link_already_in_the_text_is_not_repeated(fake: YammerFake) -> None:
    request = replace(
        REQUEST, text="Read https://example.org/a first", link="https://example.org/a", media=()
    )

    publish(fake, request)

    assert fake.messages[0].form["body"] == "Read https://example.org/a first"


def test_topics_are_deduplicated_and_capped_at_twenty(fake: YammerFake) -> None:
    objectives = tuple(ObjectiveRef(f"o{i}", f"Objective {i % 25}") for i in range(30))
    request = replace(REQUEST, objectives=(ObjectiveRef("x", "Objective 0"), *objectives))

    outcome = publish(fake, request)

    assert isinstance(outcome, PublishResult)
    assert fake.messages[0].topics == [f"Objective {i}" for i in range(20)]


def test_media_without_a_public_url_are_left_out(fake: YammerFake) -> None:
    media = MediaFile("m", "a.png", "image/png", 10, Path("/nowhere/a.png"))
    request = replace(REQUEST, link=None, media=(media,))

    publish(fake, request)

    assert fake.messages[0].form["body"] == REQUEST.text


# -- what each answer means -------------------------------------------------------------


def test_401_is_auth_expired(fake: YammerFake) -> None:
    fake.answer(unauthorized())

    outcome = publish(fake)

    assert isinstance(outcome, AuthExpired)
    assert "Token not found" in outcome.message


def test_a_revoked_token_is_auth_expired(fake: YammerFake) -> None:
    fake.revoke()

    assert isinstance(publish(fake), AuthExpired)
    assert fake.messages == []


def test_400_with_oauth_exception_is_auth_expired(fake: YammerFake) -> None:
    fake.answer(oauth_exception())

    assert isinstance(publish(fake), AuthExpired)


def test_other_400_is_permanent_with_yammers_words(fake: YammerFake) -> None:
    fake.answer(body_blank())

    outcome = publish(fake)

    assert isinstance(outcome, Permanent)
    assert "Please include a message" in outcome.message
    assert outcome.code == "body_blank"


def test_an_unknown_group_is_permanent(fake: YammerFake) -> None:
    outcome = publish(fake, group="404404")

    assert isinstance(outcome, Permanent)
    assert outcome.code == "not_found"
    assert "404404" in outcome.message
    assert fake.messages == []


def test_404_from_the_platform_is_permanent(fake: YammerFake) -> None:
    fake.answer(group_not_found())

    outcome = publish(fake)

    assert isinstance(outcome, Permanent)
    assert "Group not found" in outcome.message


def test_429_without_retry_after_waits_a_whole_window(fake: YammerFake) -> None:
    fake.answer(rate_limited())

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(seconds=30)


def test_429_with_retry_after_waits_that_long(fake: YammerFake) -> None:
    fake.answer(rate_limited(7))

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(seconds=7)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(fake: YammerFake, status: int) -> None:
    fake.answer(server_error(status))

    assert isinstance(publish(fake), Transient)


def test_403_is_permanent(fake: YammerFake) -> None:
    fake.answer(json_answer(403, {"response": {"message": "Forbidden", "stat": "fail"}}))

    outcome = publish(fake)

    assert isinstance(outcome, Permanent)
    assert "Forbidden" in outcome.message


def test_success_without_a_message_is_still_success(fake: YammerFake) -> None:
    fake.answer(json_answer(201, {"messages": [], "references": [], "meta": {}}))

    assert publish(fake) == PublishResult()


def test_the_token_stays_out_of_every_error(fake: YammerFake) -> None:
    fake.answer(
        json_answer(400, {"error": {"base": [f"bad token {TOKEN}"], "code": "x"}}),
        json_answer(401, {"response": {"message": f"Token {TOKEN} not found"}}),
    )

    errors = [publish(fake), publish(fake)]

    assert all(isinstance(e, PublishError) for e in errors)
    assert all(TOKEN not in str(e) for e in errors)


# -- the fake checks what Yammer checks ---------------------------------------------------


def test_the_fake_refuses_what_yammer_refuses(fake: YammerFake) -> None:
    async def go() -> list[int]:
        async with httpx.AsyncClient(timeout=2) as http:
            url = f"{fake.url}/api/v1/messages.json"
            auth = {"Authorization": f"Bearer {TOKEN}"}
            answers = [
                await http.post(url, data={"body": "hi", "group_id": GROUP_ID}),
                await http.post(
                    url,
                    data={"body": "hi", "group_id": GROUP_ID},
                    headers={"Authorization": "Token x"},
                ),
                await http.post(url, json={"body": "hi", "group_id": GROUP_ID}, headers=auth),
                await http.post(url, data={"body": "  ", "group_id": GROUP_ID}, headers=auth),
                await http.post(url, data={"body": "hi", "group_id": "1"}, headers=auth),
                await http.post(
                    url, data={"body": "hi", "group_id": GROUP_ID, "topic2": "x"}, headers=auth
                ),
                await http.get(f"{fake.url}/api/v1/nothing.json", headers=auth),
            ]
            return [a.status_code for a in answers]

    assert asyncio.run(go()) == [401, 401, 400, 400, 404, 400, 404]
    assert fake.messages == []


# -- the check ------------------------------------------------------------------------------


def test_check_names_the_tokens_user_and_posts_nothing(fake: YammerFake) -> None:
    result = check(fake)

    assert result.ok
    assert "Comms Team" in result.detail
    assert result.account["network_id"] == 5897756673
    (recorded,) = fake.requests
    assert (recorded.method, recorded.path) == ("GET", "/api/v1/users/current.json")
    assert fake.messages == []


def test_check_with_a_refused_token_says_so(fake: YammerFake) -> None:
    fake.revoke()

    result = check(fake)

    assert not result.ok
    assert credentials_refused(result)
    assert TOKEN not in result.detail


def test_check_of_a_busy_platform_is_not_a_refusal(fake: YammerFake) -> None:
    fake.answer(rate_limited(5))

    result = check(fake)

    assert not result.ok
    assert not credentials_refused(result)


# -- validation --------------------------------------------------------------------------


def test_validate_keeps_yammers_media_limits() -> None:
    webm = MediaFile("v", "v.webm", "video/webm", 10, Path("/x"))
    big = MediaFile("b", "b.png", "image/png", 5 * 1024 * 1024, Path("/x"))

    problems = YammerConnector.validate(replace(REQUEST, media=(webm, big)))

    assert [p.field for p in problems] == ["media_ids", "media_ids"]
    assert "video/webm is not accepted by Yammer" in problems[0].message
    assert "at most 4 MB" in problems[1].message
