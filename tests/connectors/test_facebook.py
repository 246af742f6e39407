"""The Facebook Page connector against the fake Graph API: what it sends for each kind of
post, and how it reads each Graph error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    Permanent,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.facebook import (
    DEFAULT_API_VERSION,
    FacebookConfig,
    FacebookConnector,
    FacebookCredentials,
)
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import make_client
from tests.connectors.media_files import make_image, make_video
from tests.fakes.facebook import (
    PAGE_ID,
    PAGE_NAME,
    PAGE_TOKEN,
    FakeFacebook,
    graph_error,
    rate_limited,
)
from tests.fakes.forms import read_form
from tests.fakes.sinks import Answer, drop, hang, json_answer, text_answer

TEXT = PublishRequest(
    delivery_id="dlv-fb-1",
    post_id="post-fb-1",
    text="Soup kitchen opens at noon.",
    title="Soup kitchen",
    link="https://example.org/soup",
)


@pytest.fixture
def fake() -> Iterator[FakeFacebook]:
    with FakeFacebook() as server:
        yield server


def connector(
    http: httpx.AsyncClient,
    base: str | None,
    *,
    token: str = PAGE_TOKEN,
    page_id: str = PAGE_ID,
    version: str = DEFAULT_API_VERSION,
) -> FacebookConnector:
    return FacebookConnector(
        FacebookConfig(page_id=page_id, api_version=version, api_base=base),
        FacebookCredentials(page_access_token=token),
        http,
        now=lambda: NOW,
    )


def publish(
    fake: FakeFacebook, request: PublishRequest = TEXT, *, timeout: float = 2.0, **kw: str
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with make_client("httpx", timeout) as http:
            try:
                return await connector(http, fake.url, **kw).publish(request)
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def check(fake: FakeFacebook, **kw: str) -> CheckResult:
    async def go() -> CheckResult:
        async with make_client("httpx", 2.0) as http:
            return await connector(http, fake.url, **kw).check()

    return asyncio.run(go())


def permalink(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


# -- what goes out -------------------------------------------------------------------


def test_a_text_post_goes_to_the_feed_with_its_link(fake: FakeFacebook) -> None:
    outcome = publish(fake, version="v23.0")

    post = fake.posts[-1]
    assert outcome == PublishResult(post.id, permalink(post.id))
    assert post.id.startswith(f"{PAGE_ID}_")
    assert (post.message, post.link, post.kind) == (TEXT.text, TEXT.link, "link")
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", f"/v23.0/{PAGE_ID}/feed")
    assert sent.header("content-type") == "application/x-www-form-urlencoded"
    form = read_form(sent).as_dict()
    assert form == {"message": TEXT.text, "link": TEXT.link, "access_token": PAGE_TOKEN}
    assert sent.query == ""  # the token travels in the body, not the URL


def test_a_text_post_without_a_link_sends_no_link(fake: FakeFacebook) -> None:
    publish(fake, replace(TEXT, link=None))

    assert "link" not in read_form(fake.requests[0]).as_dict()
    assert fake.posts[-1].kind == "status"


def test_one_image_is_a_published_photo_with_the_text_and_link_as_caption(
    fake: FakeFacebook, tmp_path: Path
) -> None:
    image = make_image(tmp_path, "soup.png")

    outcome = publish(fake, replace(TEXT, media=(image,)))

    [photo] = fake.photos.values()
    assert photo.published
    assert outcome == PublishResult(photo.post_id, permalink(str(photo.post_id)))
    assert photo.data == image.path.read_bytes()
    assert (photo.filename, photo.content_type) == ("soup.png", "image/png")
    assert photo.caption == f"{TEXT.text}\n\n{TEXT.link}"
    [sent] = fake.requests
    assert sent.path == f"/{DEFAULT_API_VERSION}/{PAGE_ID}/photos"
    assert read_form(sent).get("access_token") == PAGE_TOKEN


def test_several_images_upload_unpublished_then_one_post_attaches_them_in_order(
    fake: FakeFacebook, tmp_path: Path
) -> None:
    images = (
        make_image(tmp_path, "a.png", color="red"),
        make_image(tmp_path, "b.jpg", kind="jpeg", color="green"),
        make_image(tmp_path, "c.png", color="blue"),
    )

    outcome = publish(fake, replace(TEXT, media=images))

    paths = [r.path for r in fake.requests]
    assert paths == [f"/{DEFAULT_API_VERSION}/{PAGE_ID}/photos"] * 3 + [
        f"/{DEFAULT_API_VERSION}/{PAGE_ID}/feed"
    ]
    photos = list(fake.photos.values())
    assert [p.data for p in photos] == [i.path.read_bytes() for i in images]
    assert [p.filename for p in photos] == ["a.png", "b.jpg", "c.png"]
    for request in fake.requests[:3]:
        assert read_form(request).get("published") == "false"
    [post] = fake.posts
    assert post.kind == "album"
    assert post.attached_media == [p.id for p in photos]
    assert post.message == f"{TEXT.text}\n\n{TEXT.link}"
    assert all(p.post_id == post.id for p in photos)
    assert outcome == PublishResult(post.id, permalink(post.id))
    feed = read_form(fake.requests[3])
    assert [k for k, _ in feed.fields if k.startswith("attached_media")] == [
        "attached_media[0]",
        "attached_media[1]",
        "attached_media[2]",
    ]
    assert json.loads(feed.get("attached_media[0]") or "") == {"media_fbid": photos[0].id}


def test_a_gif_goes_up_as_a_photo(fake: FakeFacebook, tmp_path: Path) -> None:
    gif = make_image(tmp_path, "wave.gif", kind="gif")

    outcome = publish(fake, replace(TEXT, media=(gif,)))

    [photo] = fake.photos.values()
    assert outcome == PublishResult(photo.post_id, permalink(str(photo.post_id)))
    assert (photo.filename, photo.content_type) == ("wave.gif", "image/gif")


def test_one_video_goes_to_the_videos_edge_with_description_and_title(
    fake: FakeFacebook, tmp_path: Path
) -> None:
    video = make_video(tmp_path, "tour.mp4")

    outcome = publish(fake, replace(TEXT, media=(video,)))

    [uploaded] = fake.videos
    assert outcome == PublishResult(uploaded.id, permalink(uploaded.id))
    assert uploaded.data == video.path.read_bytes()
    assert (uploaded.filename, uploaded.content_type) == ("tour.mp4", "video/mp4")
    assert uploaded.description == f"{TEXT.text}\n\n{TEXT.link}"
    assert uploaded.title == TEXT.title
    assert fake.requests[0].path == f"/{DEFAULT_API_VERSION}/{PAGE_ID}/videos"


def test_without_api_base_posts_go_to_graph_and_videos_to_graph_video(tmp_path: Path) -> None:
    """Where requests would go in production, seen through an httpx transport that
    answers like Graph without any network."""
    seen: list[httpx.Request] = []

    def graph(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "1", "post_id": f"{PAGE_ID}_2"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as http:
            fb = connector(http, None)
            await fb.publish(TEXT)
            await fb.publish(replace(TEXT, media=(make_image(tmp_path),)))
            await fb.publish(replace(TEXT, media=(make_video(tmp_path),)))

    asyncio.run(go())
    assert [str(r.url) for r in seen] == [
        f"https://graph.facebook.com/{DEFAULT_API_VERSION}/{PAGE_ID}/feed",
        f"https://graph.facebook.com/{DEFAULT_API_VERSION}/{PAGE_ID}/photos",
        f"https://graph-video.facebook.com/{DEFAULT_API_VERSION}/{PAGE_ID}/videos",
    ]


def test_a_missing_media_file_is_permanent_and_sends_nothing(
    fake: FakeFacebook, tmp_path: Path
) -> None:
    image = make_image(tmp_path)
    image.path.unlink()

    outcome = publish(fake, replace(TEXT, media=(image,)))

    assert isinstance(outcome, Permanent)
    assert outcome.code == "media_missing"
    assert fake.requests == []


# -- the fake's own checks, met by the connector ---------------------------------------


def test_the_same_message_twice_in_a_row_is_a_duplicate(fake: FakeFacebook) -> None:
    assert isinstance(publish(fake), PublishResult)

    outcome = publish(fake)

    assert isinstance(outcome, Permanent)
    assert outcome.code == "duplicate"
    assert "Duplicate status message" in outcome.message


def test_a_revoked_token_is_auth_expired(fake: FakeFacebook) -> None:
    fake.revoke()

    outcome = publish(fake)

    assert isinstance(outcome, AuthExpired)
    assert "code 190, subcode 460" in outcome.message
    assert PAGE_TOKEN not in outcome.message
    assert fake.posts == []


def test_a_token_graph_cannot_parse_is_auth_expired(fake: FakeFacebook) -> None:
    outcome = publish(fake, token="EAAGwrongTokenValue123")

    assert isinstance(outcome, AuthExpired)
    assert "Cannot parse access token" in outcome.message


def test_another_pages_id_is_refused_with_graphs_words(fake: FakeFacebook) -> None:
    outcome = publish(fake, page_id="999")

    assert isinstance(outcome, Permanent)
    assert outcome.code == "invalid_parameter"
    assert "Object with ID '999' does not exist" in outcome.message


def test_a_file_graph_cannot_read_as_an_image_is_refused(
    fake: FakeFacebook, tmp_path: Path
) -> None:
    bogus = make_image(tmp_path, "fake.png")
    bogus.path.write_bytes(b"not an image at all")

    outcome = publish(fake, replace(TEXT, media=(bogus,)))

    assert isinstance(outcome, Permanent)
    assert "(#324) Missing or invalid image file" in outcome.message


def test_an_album_that_fails_midway_publishes_nothing(fake: FakeFacebook, tmp_path: Path) -> None:
    images = (make_image(tmp_path, "a.png"), make_image(tmp_path, "b.png"))
    fake.answer_next(json_answer(200, {"id": "1000000000777"}), graph_error(2))

    outcome = publish(fake, replace(TEXT, media=images))

    assert isinstance(outcome, Transient)
    assert len(fake.requests) == 2
    assert fake.posts == []


def test_an_album_upload_left_unanswered_is_transient_not_ambiguous(
    fake: FakeFacebook, tmp_path: Path
) -> None:
    """Photos are uploaded unpublished: nobody can see them until the feed post."""
    images = (make_image(tmp_path, "a.png"), make_image(tmp_path, "b.png"))
    fake.answer_next(json_answer(200, {"id": "1000000000777"}), drop())

    outcome = publish(fake, replace(TEXT, media=images))

    assert isinstance(outcome, Transient), outcome
    assert "nothing was published" in outcome.message
    assert fake.posts == []


def test_a_single_photo_left_unanswered_is_ambiguous(fake: FakeFacebook, tmp_path: Path) -> None:
    fake.answer_next(hang(5))

    outcome = publish(fake, replace(TEXT, media=(make_image(tmp_path),)), timeout=0.2)

    assert isinstance(outcome, Ambiguous)


# -- reading Graph's errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (1, Transient),
        (2, Transient),
        (4, RateLimited),
        (17, RateLimited),
        (32, RateLimited),
        (613, RateLimited),
        (80001, RateLimited),
        (190, AuthExpired),
        (10, AuthExpired),
        (200, AuthExpired),
        (299, AuthExpired),
        (368, Permanent),
        (506, Permanent),
        (100, Permanent),
        (1609005, Permanent),
    ],
)
def test_each_graph_error_code_maps_to_its_kind(
    fake: FakeFacebook, code: int, kind: type[PublishError]
) -> None:
    fake.answer_next(graph_error(code))

    outcome = publish(fake)

    assert type(outcome) is kind, outcome
    assert f"code {code}" in outcome.message


def test_permission_errors_ask_for_a_reconnect_with_the_permission(fake: FakeFacebook) -> None:
    """10 and 200-299: the Page token lacks a permission. A new token with the
    permission fixes it, so the channel needs reconnecting (AuthExpired), not the post."""
    fake.answer_next(graph_error(200))

    outcome = publish(fake)

    assert isinstance(outcome, AuthExpired)
    assert "pages_manage_posts" in outcome.message
    assert "reconnect the channel" in outcome.message


@pytest.mark.parametrize(
    ("code", "words", "label"),
    [
        (368, "temporarily blocked", "blocked"),
        (506, "Duplicate status message", "duplicate"),
        (100, "(#100) Invalid parameter", "invalid_parameter"),
        (1609005, "link", "facebook_1609005"),
    ],
)
def test_permanent_refusals_carry_graphs_message_and_a_code(
    fake: FakeFacebook, code: int, words: str, label: str
) -> None:
    fake.answer_next(graph_error(code, "Error posting link" if code == 1609005 else None))

    outcome = publish(fake)

    assert isinstance(outcome, Permanent)
    assert words in outcome.message
    assert outcome.code == label


def test_the_duplicate_error_carries_the_user_facing_explanation(fake: FakeFacebook) -> None:
    fake.answer_next(graph_error(506))

    outcome = publish(fake)

    assert isinstance(outcome, Permanent)
    assert "identical to the last one you posted" in outcome.message


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (text_answer(503, "Service Unavailable"), Transient),
        (text_answer(502, "<html>Sorry, something went wrong.</html>"), Transient),
        (text_answer(404, "Not Found"), Permanent),
        (text_answer(401, "Unauthorized"), AuthExpired),
        (text_answer(200, "<html>not json</html>"), Ambiguous),
    ],
)
def test_answers_without_a_graph_error_follow_the_http_rules(
    fake: FakeFacebook, answer: Answer, kind: type[PublishError]
) -> None:
    fake.answer_next(answer)

    outcome = publish(fake)

    assert type(outcome) is kind, outcome


def test_an_unknown_code_on_a_5xx_or_marked_transient_is_transient(fake: FakeFacebook) -> None:
    fake.answer_next(graph_error(9007, "Temporary glitch", status=500))

    assert isinstance(publish(fake), Transient)


# -- rate limits -----------------------------------------------------------------------


def test_a_page_rate_limit_waits_the_minutes_graph_estimates(fake: FakeFacebook) -> None:
    fake.answer_next(rate_limited(80001, regain_minutes=12))

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(minutes=12)
    assert "too many calls to this Page" in outcome.message


def test_the_longest_estimate_in_the_usage_header_wins(fake: FakeFacebook) -> None:
    header = json.dumps(
        {
            PAGE_ID: [
                {"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3},
                {"type": "pages", "call_count": 40, "estimated_time_to_regain_access": 25},
            ]
        }
    )
    fake.answer_next(graph_error(32, headers={"X-Business-Use-Case-Usage": header}))

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(minutes=25)


def test_an_absurd_estimate_is_capped_at_a_day(fake: FakeFacebook) -> None:
    fake.answer_next(rate_limited(80001, regain_minutes=10**12))

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(hours=24)


def test_a_full_usage_header_without_an_estimate_waits_an_hour(fake: FakeFacebook) -> None:
    fake.answer_next(rate_limited(4, regain_minutes=None, app_usage=100))

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(hours=1)


def test_a_zero_estimate_below_full_usage_waits_five_minutes(fake: FakeFacebook) -> None:
    fake.answer_next(rate_limited(613, regain_minutes=0, usage=60))

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(minutes=5)


def test_retry_after_if_present_comes_first(fake: FakeFacebook) -> None:
    fake.answer_next(rate_limited(80001, regain_minutes=12, retry_after="90"))

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(seconds=90)


# -- check -------------------------------------------------------------------------------


def test_check_reads_the_page_name_and_posts_nothing(fake: FakeFacebook) -> None:
    result = check(fake)

    assert result.ok, result.detail
    assert PAGE_NAME in result.detail
    assert result.account == {"id": PAGE_ID, "name": PAGE_NAME}
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("GET", f"/{DEFAULT_API_VERSION}/{PAGE_ID}")
    assert read_form(sent).as_dict() == {"fields": "name", "access_token": PAGE_TOKEN}
    assert fake.posts == [] and fake.photos == {}


def test_check_with_a_revoked_token_says_so_without_the_token(fake: FakeFacebook) -> None:
    fake.revoke()

    result = check(fake)

    assert not result.ok
    assert result.credentials_refused
    assert "refused the credentials" in result.detail
    assert PAGE_TOKEN not in result.detail
