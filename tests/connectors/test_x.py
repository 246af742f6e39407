"""The X connector, driving tweepy's real client against the fake X, which verifies every
OAuth 1.0a signature with oauthlib over the original https://api.twitter.com URL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, Client

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    MediaFile,
    Permanent,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.checks import credentials_refused
from connectors.x import (
    XConfig,
    XConnector,
    XCredentials,
    rewrite_url,
    timeouts_of,
    tweet_text,
    weighted_length,
)
from tests.connectors.conftest import NOW, closed_port
from tests.connectors.harness_x import oauth1_credentials, oauth2_credentials
from tests.connectors.harnesses import FAKES_ALLOWED, make_client
from tests.connectors.media_files import image_bytes, make_image, make_video
from tests.fakes.forms import read_form
from tests.fakes.sinks import drop, hang
from tests.fakes.x import (
    ACCESS_TOKEN,
    ACCESS_TOKEN_SECRET,
    CLIENT_SECRET,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    DUPLICATE_DETAIL,
    ME_PATH,
    OAUTH2_TOKEN,
    REFRESH_TOKEN,
    TOKEN_PATH,
    TOO_LONG,
    TWEETS_PATH,
    UPLOAD_PATH,
    USERNAME,
    FakeX,
    forbidden,
    server_error,
    text_too_long,
    too_many_requests,
    verify_oauth1,
)

SECRETS = (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    ACCESS_TOKEN,
    ACCESS_TOKEN_SECRET,
    OAUTH2_TOKEN,
    REFRESH_TOKEN,
    CLIENT_SECRET,
)
LONG_URL = "https://example.org/events/2026/bake-sale-in-the-atrium?" + "&".join(
    f"utm_param{i}=value{i}" for i in range(8)
)


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as server:
        yield server


def text_request(
    text: str = "Bake sale on Friday in the atrium.", **changes: Any
) -> PublishRequest:
    return replace(PublishRequest(delivery_id="dlv-x-1", post_id="post-x-1", text=text), **changes)


def connector(
    http: httpx.AsyncClient,
    base: str | None,
    credentials: XCredentials | None = None,
    *,
    now: Any = None,
    saved: list[dict[str, Any]] | None = None,
    chunk_bytes: int | None = None,
    **config: Any,
) -> XConnector:
    settings: dict[str, Any] = {"username": USERNAME, "api_base": base, **config}

    async def save(changed: dict[str, Any]) -> None:
        assert saved is not None
        saved.append(changed)

    made = XConnector(
        XConfig.model_validate(settings),
        credentials or oauth1_credentials(),
        http,
        now=now or (lambda: NOW),
        save_credentials=save if saved is not None else None,
        outbound=FAKES_ALLOWED,
    )
    if chunk_bytes is not None:
        made.chunk_bytes = chunk_bytes
    return made


def publish(
    fake: FakeX | None,
    request: PublishRequest,
    credentials: XCredentials | None = None,
    *,
    timeout: float = 2.0,
    base: str | None = None,
    **options: Any,
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with make_client("httpx", timeout) as http:
            target = base or (fake.url if fake is not None else None)
            try:
                return await connector(http, target, credentials, **options).publish(request)
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def check(
    fake: FakeX, credentials: XCredentials | None = None, *, base: str | None = None, **config: Any
) -> CheckResult:
    async def go() -> CheckResult:
        async with make_client("httpx", 2.0) as http:
            return await connector(http, base or fake.url, credentials, **config).check()

    return asyncio.run(go())


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def image_request(tmp_path: Path, count: int = 1, **changes: Any) -> PublishRequest:
    media = tuple(make_image(tmp_path, f"photo{i}.png", color="teal") for i in range(count))
    return text_request("Our volunteers at the food bank.", media=media, **changes)


# -- publishing -----------------------------------------------------------------------


def test_a_post_with_an_image_uploads_it_then_posts_it_signed(fake: FakeX, tmp_path: Path) -> None:
    request = image_request(tmp_path, link="https://example.org/food-bank")

    outcome = publish(fake, request)

    [tweet] = fake.tweets
    assert outcome == PublishResult(tweet.id, f"https://x.com/{USERNAME}/status/{tweet.id}")
    [media_id] = tweet.media_ids
    png = request.media[0].path.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert fake.media[media_id].data == png
    upload, post = fake.requests
    assert (upload.method, upload.path) == ("POST", UPLOAD_PATH)
    form = read_form(upload)
    assert form.multipart and form.body_fields == []
    uploaded = form.file("media")
    assert uploaded is not None and uploaded.data == png and uploaded.filename == "photo0.png"
    assert (post.method, post.path) == ("POST", TWEETS_PATH)
    assert post.json() == {
        "text": "Our volunteers at the food bank.\n\nhttps://example.org/food-bank",
        "media": {"media_ids": [media_id]},
    }
    # Both signatures were verified over X's own URLs, while the bytes went to the fake.
    assert fake.signatures_checked == 2 and fake.auth_failures == []
    for sent in (upload, post):
        authorization = sent.header("authorization") or ""
        assert authorization.startswith("OAuth ")
        assert 'oauth_signature_method="HMAC-SHA1"' in authorization
        assert CONSUMER_SECRET not in authorization and ACCESS_TOKEN_SECRET not in authorization
        assert sent.header("host") == urlsplit(fake.url).netloc


def test_four_images_go_up_in_order(fake: FakeX, tmp_path: Path) -> None:
    media = tuple(
        make_image(tmp_path, f"p{i}.png", color=color)
        for i, color in enumerate(("red", "green", "blue", "white"))
    )

    outcome = publish(fake, text_request("Four", media=media))

    assert isinstance(outcome, PublishResult)
    [tweet] = fake.tweets
    assert [fake.media[m].data for m in tweet.media_ids] == [m.path.read_bytes() for m in media]


def test_a_text_post_carries_the_link_once(fake: FakeX) -> None:
    publish(fake, text_request("See you there", link="https://example.org/a"))
    publish(fake, text_request("Details: https://example.org/b", link="https://example.org/b"))

    assert [t.text for t in fake.tweets] == [
        "See you there\n\nhttps://example.org/a",
        "Details: https://example.org/b",
    ]
    assert [t.media_ids for t in fake.tweets] == [[], []]
    assert "media" not in fake.requests_to(TWEETS_PATH)[0].json()


def test_without_a_username_the_permalink_is_the_web_status_link(fake: FakeX) -> None:
    outcome = publish(fake, text_request(), username=None)

    assert isinstance(outcome, PublishResult)
    assert outcome.permalink == f"https://x.com/i/web/status/{outcome.external_id}"


def test_a_wrong_consumer_secret_fails_the_signature_check(fake: FakeX) -> None:
    outcome = publish(fake, text_request(), oauth1_credentials(consumer_secret="not-the-secret"))

    assert isinstance(outcome, AuthExpired), outcome
    assert fake.auth_failures == ["signature_invalid"]
    assert fake.signatures_checked == 1
    assert fake.tweets == []
    assert "Unauthorized" in outcome.message
    assert_no_secrets(str(outcome))


def test_a_wrong_token_secret_fails_the_media_upload(fake: FakeX, tmp_path: Path) -> None:
    outcome = publish(
        fake, image_request(tmp_path), oauth1_credentials(access_token_secret="wrong")
    )

    assert isinstance(outcome, AuthExpired), outcome
    assert "Could not authenticate you." in outcome.message
    assert fake.auth_failures == ["signature_invalid"]
    assert fake.requests_to(TWEETS_PATH) == []


def test_the_fake_verifies_xs_documented_signature_example() -> None:
    # developer.x.com, "Creating a signature": the request, the keys and the result.
    header = (
        'OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", '
        'oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", '
        'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D", '
        'oauth_signature_method="HMAC-SHA1", oauth_timestamp="1318622958", '
        'oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0"'
    )
    body = [("status", "Hello Ladies + Gentlemen, a signed OAuth request!")]
    url = "https://api.twitter.com/1.1/statuses/update.json"

    def valid(uri: str, fields: list[tuple[str, str]]) -> bool:
        return verify_oauth1(
            "POST",
            uri,
            "include_entities=true",
            fields,
            header,
            CONSUMER_SECRET,
            ACCESS_TOKEN_SECRET,
        )

    assert valid(url, body)
    assert not valid(url, [("status", "Hello Ladies + Gentlemen, a signed OAuth request?")])
    assert not valid("http://127.0.0.1:8080/1.1/statuses/update.json", body)


def test_the_signature_must_cover_the_original_x_url(fake: FakeX) -> None:
    def signed_over(url: str) -> int:
        client = Client(
            CONSUMER_KEY,
            client_secret=CONSUMER_SECRET,
            resource_owner_key=ACCESS_TOKEN,
            resource_owner_secret=ACCESS_TOKEN_SECRET,
            signature_method=SIGNATURE_HMAC_SHA1,
        )
        _, headers, _ = client.sign(url, http_method="GET")
        return httpx.get(fake.url + ME_PATH, headers=headers).status_code

    assert signed_over("https://api.twitter.com" + ME_PATH) == 200
    assert signed_over(fake.url + ME_PATH) == 401
    assert fake.auth_failures == ["signature_invalid"]


def test_more_than_four_images_are_refused_before_anything_is_sent(
    fake: FakeX, tmp_path: Path
) -> None:
    outcome = publish(fake, image_request(tmp_path, count=5))

    assert isinstance(outcome, Permanent) and outcome.code == "media"
    assert fake.requests == []


# -- OAuth 2 --------------------------------------------------------------------------


def test_an_oauth2_user_token_posts_as_a_bearer_token(fake: FakeX) -> None:
    outcome = publish(fake, text_request(), oauth2_credentials())

    [tweet] = fake.tweets
    assert outcome == PublishResult(tweet.id, f"https://x.com/{USERNAME}/status/{tweet.id}")
    assert tweet.auth == "oauth2"
    [post] = fake.requests
    assert post.header("authorization") == f"Bearer {OAUTH2_TOKEN}"


def test_oauth2_credentials_upload_images_with_the_v2_upload(fake: FakeX, tmp_path: Path) -> None:
    outcome = publish(fake, image_request(tmp_path, count=2), oauth2_credentials())

    assert isinstance(outcome, PublishResult), outcome
    [tweet] = fake.tweets
    assert tweet.auth == "oauth2" and len(tweet.media_ids) == 2
    uploads = fake.requests_to("/2/media/upload")
    assert len(uploads) == 2
    assert all(u.header("authorization") == f"Bearer {OAUTH2_TOKEN}" for u in uploads)
    assert {fake.media[m].category for m in tweet.media_ids} == {"tweet_image"}


def test_oauth2_credentials_upload_a_video_in_v2_chunks(fake: FakeX, tmp_path: Path) -> None:
    video = make_video(tmp_path)
    outcome = publish(
        fake, text_request("Our new film", media=(video,)), oauth2_credentials(), chunk_bytes=1500
    )

    assert isinstance(outcome, PublishResult), outcome
    [tweet] = fake.tweets
    item = fake.media[tweet.media_ids[0]]
    assert item.data == video.path.read_bytes()
    assert (item.category, item.state) == ("tweet_video", "succeeded")
    paths = [r.path.replace(item.id, "{id}") for r in fake.requests]
    assert paths[0] == "/2/media/upload/initialize"
    assert set(paths[1:-3]) == {"/2/media/upload/{id}/append"}
    assert paths[-3:] == ["/2/media/upload/{id}/finalize", "/2/media/upload", "/2/tweets"]


def test_an_expired_token_at_the_v2_upload_is_renewed_once(fake: FakeX, tmp_path: Path) -> None:
    fake.revoke(OAUTH2_TOKEN)
    saved: list[dict[str, Any]] = []
    outcome = publish(fake, image_request(tmp_path), oauth2_credentials(), saved=saved)

    assert isinstance(outcome, PublishResult), outcome
    assert len(fake.issued) == 1 and saved[0]["access_token"] == fake.issued[0][0]


def test_an_expired_oauth2_token_is_renewed_once_and_kept(fake: FakeX) -> None:
    fake.revoke(OAUTH2_TOKEN)  # two hours later
    saved: list[dict[str, Any]] = []

    outcome = publish(fake, text_request(), oauth2_credentials(), saved=saved)

    assert isinstance(outcome, PublishResult), outcome
    [(access, refresh)] = fake.issued
    assert saved == [{"access_token": access, "refresh_token": refresh}]
    assert [r.path for r in fake.requests] == [TWEETS_PATH, TOKEN_PATH, TWEETS_PATH]
    renewal = read_form(fake.requests[1])
    assert renewal.as_dict() == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": oauth2_credentials().client_id,
    }
    assert fake.requests[2].header("authorization") == f"Bearer {access}"
    assert REFRESH_TOKEN not in fake.refresh_tokens  # X rotates refresh tokens


def test_a_dead_refresh_token_is_auth_expired(fake: FakeX) -> None:
    fake.revoke(OAUTH2_TOKEN)
    fake.revoke_refresh(REFRESH_TOKEN)

    outcome = publish(fake, text_request(), oauth2_credentials())

    assert isinstance(outcome, AuthExpired), outcome
    assert "invalid_request" in outcome.message
    assert "Value passed for the token was invalid." in outcome.message
    assert len(fake.requests_to(TWEETS_PATH)) == 1  # not retried without a token
    assert_no_secrets(str(outcome))


# -- what X answers -------------------------------------------------------------------


def test_the_same_text_twice_is_a_permanent_duplicate(fake: FakeX) -> None:
    first = publish(fake, text_request("Same words"))
    second = publish(fake, text_request("Same words"))

    assert isinstance(first, PublishResult)
    assert isinstance(second, Permanent) and second.code == "duplicate", second
    assert DUPLICATE_DETAIL in second.message
    assert len(fake.tweets) == 1


def test_another_403_is_permanent_with_xs_message(fake: FakeX) -> None:
    words = "You are not permitted to perform this action."
    fake.answer_next(forbidden(words), path=TWEETS_PATH)

    outcome = publish(fake, text_request())

    assert isinstance(outcome, Permanent) and outcome.code == "forbidden", outcome
    assert words in outcome.message


def test_a_text_x_finds_too_long_is_permanent_with_xs_words(fake: FakeX) -> None:
    # Past validation (a stale check, say): the fake measures with twitter-text too.
    outcome = publish(fake, text_request("é" * 200 + "漢" * 50))

    assert isinstance(outcome, Permanent) and outcome.code == "invalid", outcome
    assert TOO_LONG in outcome.message


def test_a_scripted_400_is_permanent(fake: FakeX) -> None:
    fake.answer_next(text_too_long(), path=TWEETS_PATH)

    outcome = publish(fake, text_request())

    assert isinstance(outcome, Permanent) and TOO_LONG in outcome.message


def test_a_server_error_is_transient(fake: FakeX) -> None:
    fake.answer_next(server_error(503), path=TWEETS_PATH)

    outcome = publish(fake, text_request())

    assert isinstance(outcome, Transient), outcome
    assert "503" in outcome.message and "Service Unavailable" in outcome.message


def test_429_waits_until_the_rate_limit_reset(fake: FakeX) -> None:
    reset = int(NOW.timestamp()) + 613
    fake.answer_next(too_many_requests(reset), path=TWEETS_PATH)

    outcome = publish(fake, text_request())

    assert isinstance(outcome, RateLimited), outcome
    assert outcome.retry_at == datetime.fromtimestamp(reset, UTC)
    assert outcome.retry_at == NOW + timedelta(seconds=613)
    assert "Too Many Requests" in outcome.message


def test_a_spent_24_hour_user_quota_waits_for_its_reset(fake: FakeX) -> None:
    window = int(NOW.timestamp()) + 600
    day = int(NOW.timestamp()) + 20_000
    fake.answer_next(
        too_many_requests(window, remaining=44, user_24h=(17, 0, day)), path=TWEETS_PATH
    )

    outcome = publish(fake, text_request())

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == datetime.fromtimestamp(day, UTC)


def test_a_24_hour_quota_with_calls_left_does_not_count(fake: FakeX) -> None:
    window = int(NOW.timestamp()) + 600
    fake.answer_next(too_many_requests(window, user_24h=(17, 3, window + 50_000)), path=TWEETS_PATH)

    outcome = publish(fake, text_request())

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == datetime.fromtimestamp(window, UTC)


def test_the_fakes_own_window_runs_out_with_xs_headers() -> None:
    with FakeX(limits={TWEETS_PATH: 1}) as fake:
        first = publish(fake, text_request("one"), now=lambda: datetime.now(UTC))
        second = publish(fake, text_request("two"), now=lambda: datetime.now(UTC))
        reset = fake.reset_at(TWEETS_PATH)

    assert isinstance(first, PublishResult)
    assert isinstance(second, RateLimited), second
    assert second.retry_at == datetime.fromtimestamp(reset, UTC)


# -- transport failures ---------------------------------------------------------------


def test_no_answer_after_the_post_was_sent_is_ambiguous(fake: FakeX) -> None:
    fake.answer_next(hang(5), path=TWEETS_PATH)
    started = time.monotonic()

    outcome = publish(fake, text_request(), timeout=0.3)

    assert isinstance(outcome, Ambiguous), outcome
    assert "ReadTimeout" in outcome.message
    assert time.monotonic() - started < 3  # the adapter's timeout, not the fake's 5 s
    assert len(fake.requests_to(TWEETS_PATH)) == 1


def test_a_connection_closed_after_the_post_was_sent_is_ambiguous(fake: FakeX) -> None:
    fake.answer_next(drop(), path=TWEETS_PATH)

    outcome = publish(fake, text_request())

    assert isinstance(outcome, Ambiguous), outcome


def test_no_answer_to_the_media_upload_is_transient(fake: FakeX, tmp_path: Path) -> None:
    fake.answer_next(hang(5), path=UPLOAD_PATH)

    outcome = publish(fake, image_request(tmp_path), timeout=0.3)

    assert isinstance(outcome, Transient), outcome
    assert "nothing was published" in outcome.message
    assert fake.requests_to(TWEETS_PATH) == []


def test_a_refused_connection_is_transient() -> None:
    outcome = publish(None, text_request(), base=f"http://127.0.0.1:{closed_port()}")

    assert isinstance(outcome, Transient), outcome
    assert "nothing was sent" in outcome.message
    assert "NewConnectionError" in outcome.message


def test_an_upload_host_of_its_own(fake: FakeX, tmp_path: Path) -> None:
    # Uploads to upload_base, posts to api_base (here a dead port: the post fails).
    outcome = publish(
        None,
        image_request(tmp_path),
        base=f"http://127.0.0.1:{closed_port()}",
        upload_base=fake.url,
    )

    assert isinstance(outcome, Transient), outcome
    assert [r.path for r in fake.requests] == [UPLOAD_PATH]
    assert fake.auth_failures == []


# -- video and GIF: chunked upload ------------------------------------------------------


def upload_commands(fake: FakeX) -> list[str]:
    commands = []
    for recorded in fake.requests_to(UPLOAD_PATH):
        commands.append(read_form(recorded).get("command") or "simple")
    return commands


def test_a_video_goes_up_in_chunks_and_waits_for_processing(fake: FakeX, tmp_path: Path) -> None:
    video = make_video(tmp_path)
    fake.processing_polls = 2

    outcome = publish(fake, text_request("Our new film", media=(video,)), chunk_bytes=1500)

    assert isinstance(outcome, PublishResult), outcome
    [tweet] = fake.tweets
    [media_id] = tweet.media_ids
    item = fake.media[media_id]
    assert item.data == video.path.read_bytes()
    assert (item.media_type, item.category, item.state) == ("video/mp4", "tweet_video", "succeeded")
    segments = -(-len(item.data) // 1500)
    assert segments > 1
    assert upload_commands(fake) == [
        "INIT",
        *["APPEND"] * segments,
        "FINALIZE",
        "STATUS",
        "STATUS",
    ]
    assert fake.auth_failures == []
    assert fake.signatures_checked == segments + 5  # every upload call and the post


def test_a_video_x_cannot_process_is_permanent(fake: FakeX, tmp_path: Path) -> None:
    fake.fail_processing = True

    outcome = publish(fake, text_request("Film", media=(make_video(tmp_path),)))

    assert isinstance(outcome, Permanent) and outcome.code == "media_processing", outcome
    assert "Unsupported video format" in outcome.message
    assert fake.tweets == []


def test_a_gif_goes_up_in_chunks_as_a_tweet_gif(fake: FakeX, tmp_path: Path) -> None:
    data = image_bytes("gif")
    path = tmp_path / "wave.gif"
    path.write_bytes(data)
    gif = MediaFile("med-gif", "wave.gif", "image/gif", len(data), path)

    outcome = publish(fake, text_request("Hello", media=(gif,)))

    assert isinstance(outcome, PublishResult), outcome
    [media_id] = fake.tweets[0].media_ids
    assert fake.media[media_id].category == "tweet_gif"
    assert upload_commands(fake) == ["INIT", "APPEND", "FINALIZE", "STATUS"]


# -- check ----------------------------------------------------------------------------


def test_check_reports_the_account(fake: FakeX) -> None:
    result = check(fake)

    assert result.ok, result.detail
    assert result.detail == f"Connected to X as @{USERNAME}"
    assert result.account["username"] == USERNAME
    [request] = fake.requests
    assert (request.method, request.path) == ("GET", ME_PATH)
    assert fake.tweets == []


def test_check_with_an_oauth2_token(fake: FakeX) -> None:
    result = check(fake, oauth2_credentials())

    assert result.ok, result.detail
    assert fake.requests[0].header("authorization") == f"Bearer {OAUTH2_TOKEN}"


def test_check_names_another_account(fake: FakeX) -> None:
    result = check(fake, username="@someone_else")

    assert not result.ok
    assert f"@{USERNAME}" in result.detail and "@someone_else" in result.detail


def test_check_reports_refused_credentials(fake: FakeX) -> None:
    fake.revoke(ACCESS_TOKEN)

    result = check(fake)

    assert not result.ok and credentials_refused(result)
    assert_no_secrets(result.detail)


def test_check_reports_an_unreachable_x(fake: FakeX) -> None:
    result = check(fake, base=f"http://127.0.0.1:{closed_port()}")

    assert not result.ok and not credentials_refused(result)
    assert result.detail == "could not connect to 127.0.0.1"


# -- validation -----------------------------------------------------------------------


def test_281_weighted_characters_are_refused() -> None:
    assert XConnector.validate(text_request("a" * 280)) == []
    [problem] = XConnector.validate(text_request("a" * 281))
    assert problem.field == "text"
    assert "281 of 280" in problem.message


def test_non_latin_characters_weigh_two() -> None:
    assert weighted_length("漢" * 140) == 280
    assert XConnector.validate(text_request("漢" * 140)) == []
    assert XConnector.validate(text_request("漢" * 141)) != []


def test_a_long_url_counts_23() -> None:
    assert len(LONG_URL) > 150
    text = "a" * 256 + " " + LONG_URL  # far more than 280 characters, 280 as X counts
    assert len(text) > 400 and weighted_length(text) == 280
    assert XConnector.validate(text_request(text)) == []
    assert XConnector.validate(text_request("a" + text)) != []


def test_a_270_character_text_with_a_long_url_in_it_is_accepted() -> None:
    text = "Bake sale! " + "a" * (270 - 12 - len(LONG_URL)) + " " + LONG_URL
    assert len(text) == 270
    assert weighted_length(text) < len(text)
    assert XConnector.validate(text_request(text)) == []


def test_the_link_counts_in_the_text_x_gets() -> None:
    text = "a" * 255
    assert tweet_text(text_request(text, link=LONG_URL)) == text + "\n\n" + LONG_URL
    assert XConnector.validate(text_request(text, link=LONG_URL)) == []  # 255 + 2 + 23
    [problem] = XConnector.validate(text_request("a" + text, link=LONG_URL))
    assert "the link included" in problem.message


def test_more_than_four_images_are_refused(tmp_path: Path) -> None:
    assert XConnector.validate(image_request(tmp_path, count=4)) == []
    [problem] = XConnector.validate(image_request(tmp_path, count=5))
    assert problem.field == "media_ids"
    assert "5 images" in problem.message


def test_a_video_goes_alone(tmp_path: Path) -> None:
    video = make_video(tmp_path)
    assert XConnector.validate(text_request("film", media=(video,))) == []
    mixed = (video, make_image(tmp_path, "p.png"))
    assert XConnector.validate(text_request("film", media=mixed)) != []


# -- plumbing -------------------------------------------------------------------------


def test_the_adapter_keeps_path_and_query() -> None:
    base = urlsplit("http://127.0.0.1:8080/proxy/x/")
    assert (
        rewrite_url("https://api.twitter.com/2/users/me?user.fields=id%2Cname", base)
        == "http://127.0.0.1:8080/proxy/x/2/users/me?user.fields=id%2Cname"
    )


def test_timeouts_come_from_the_http_client() -> None:
    assert timeouts_of(httpx.AsyncClient(timeout=httpx.Timeout(12.0, connect=3.0))) == (3.0, 12.0)
    assert timeouts_of(httpx.AsyncClient(timeout=None)) == (30.0, 30.0)


def test_a_username_may_start_with_an_at_sign() -> None:
    assert XConfig(username=" @cadence_comms ").username == "cadence_comms"


def test_either_credential_set_is_needed() -> None:
    with pytest.raises(ValueError):
        XCredentials(access_token="only-this")
    assert oauth1_credentials().oauth1 and not oauth1_credentials().oauth2
    assert oauth2_credentials().oauth2 and not oauth2_credentials().oauth1
