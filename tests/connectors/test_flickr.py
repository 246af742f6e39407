"""The Flickr connector against the fake Flickr, which verifies every OAuth 1.0a
signature with oauthlib: what an upload carries, and how each answer is read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    ObjectiveRef,
    Permanent,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.flickr import FlickrConfig, FlickrConnector, FlickrCredentials, tags_for
from tests.connectors.conftest import NOW
from tests.connectors.harness_flickr import flickr_credentials
from tests.connectors.harnesses import make_client
from tests.connectors.media_files import make_image, make_video
from tests.fakes.flickr import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    OAUTH_TOKEN,
    OAUTH_TOKEN_SECRET,
    USER_NSID,
    USERNAME,
    FakeFlickr,
    flickr_error,
    too_many_requests,
)
from tests.fakes.forms import read_form
from tests.fakes.sinks import Answer, text_answer

SECRETS = (CONSUMER_SECRET, OAUTH_TOKEN_SECRET, OAUTH_TOKEN, CONSUMER_KEY)
OBJECTIVES = (
    ObjectiveRef("obj-1", "Fundraising events"),
    ObjectiveRef("obj-2", "volunteering"),
    ObjectiveRef("obj-3", 'Support "and" information'),
)


@pytest.fixture
def fake() -> Iterator[FakeFlickr]:
    with FakeFlickr() as server:
        yield server


@pytest.fixture
def photo_request(tmp_path: Path) -> PublishRequest:
    return PublishRequest(
        delivery_id="dlv-fl-1",
        post_id="post-fl-1",
        text="Our volunteers at the food bank.\nThanks to everyone & <all> who came!",
        title="Food bank day",
        link="https://example.org/food-bank",
        media=(make_image(tmp_path, "foodbank.jpg", kind="jpeg"),),
        objectives=OBJECTIVES,
    )


def connector(
    http: httpx.AsyncClient,
    base: str | None,
    credentials: FlickrCredentials | None = None,
    **config: object,
) -> FlickrConnector:
    settings: dict[str, object] = {"user_nsid": USER_NSID, "api_base": base, **config}
    return FlickrConnector(
        FlickrConfig.model_validate(settings),
        credentials or flickr_credentials(),
        http,
        now=lambda: NOW,
    )


def publish(
    fake: FakeFlickr,
    request: PublishRequest,
    credentials: FlickrCredentials | None = None,
    **config: object,
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with make_client("httpx", 2.0) as http:
            try:
                return await connector(http, fake.url, credentials, **config).publish(request)
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def check(
    fake: FakeFlickr, credentials: FlickrCredentials | None = None, **config: object
) -> CheckResult:
    async def go() -> CheckResult:
        async with make_client("httpx", 2.0) as http:
            return await connector(http, fake.url, credentials, **config).check()

    return asyncio.run(go())


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# -- what goes up --------------------------------------------------------------------


def test_a_photo_goes_up_signed_with_its_title_description_and_tags(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    outcome = publish(fake, photo_request)

    [photo] = fake.photos
    assert outcome == PublishResult(
        photo.id, f"https://www.flickr.com/photos/{USER_NSID}/{photo.id}"
    )
    assert fake.signatures_checked == 1
    assert photo.data == photo_request.media[0].path.read_bytes()
    assert (photo.filename, photo.content_type) == ("foodbank.jpg", "image/jpeg")
    assert photo.fields["title"] == "Food bank day"
    assert photo.fields["description"] == (
        "Our volunteers at the food bank.\nThanks to everyone &amp; &lt;all&gt; who came!"
        "\n\nhttps://example.org/food-bank"
    )
    assert photo.tags == ["Fundraising events", "volunteering", "Support and information"]
    assert photo.fields["tags"] == '"Fundraising events" volunteering "Support and information"'
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("POST", "/services/upload/")
    authorization = sent.header("authorization") or ""
    assert authorization.startswith("OAuth ")
    assert 'oauth_signature_method="HMAC-SHA1"' in authorization
    assert CONSUMER_SECRET not in authorization and OAUTH_TOKEN_SECRET not in authorization


def test_the_default_visibility_is_public_and_shown_in_search(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    publish(fake, photo_request)

    fields = fake.photos[0].fields
    assert {k: fields[k] for k in ("is_public", "is_friend", "is_family", "hidden")} == {
        "is_public": "1",
        "is_friend": "0",
        "is_family": "0",
        "hidden": "1",
    }
    assert fields["content_type"] == "1"


def test_visibility_follows_the_channel_config(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    publish(
        fake,
        photo_request,
        is_public=False,
        is_friend=True,
        is_family=True,
        hide_from_search=True,
    )

    fields = fake.photos[0].fields
    assert {k: fields[k] for k in ("is_public", "is_friend", "is_family", "hidden")} == {
        "is_public": "0",
        "is_friend": "1",
        "is_family": "1",
        "hidden": "2",
    }


def test_without_a_title_the_first_line_of_the_text_is_the_title(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    publish(fake, replace(photo_request, title=None, link=None))

    fields = fake.photos[0].fields
    assert fields["title"] == "Our volunteers at the food bank."
    assert not fields["description"].endswith("food-bank")


def test_no_objectives_means_no_tags_field(fake: FakeFlickr, photo_request: PublishRequest) -> None:
    publish(fake, replace(photo_request, objectives=()))

    assert "tags" not in fake.photos[0].fields


def test_tags_are_space_separated_with_phrases_quoted() -> None:
    objectives = (
        ObjectiveRef("1", "  Fundraising   events "),
        ObjectiveRef("2", "news"),
        ObjectiveRef("3", "news"),
        ObjectiveRef("4", '"quoted"'),
    )

    assert tags_for(objectives) == '"Fundraising events" news quoted'


def test_a_video_goes_up_the_same_way(
    fake: FakeFlickr, photo_request: PublishRequest, tmp_path: Path
) -> None:
    video = make_video(tmp_path, "tour.mp4")

    outcome = publish(fake, replace(photo_request, media=(video,)))

    assert isinstance(outcome, PublishResult)
    assert fake.photos[0].content_type == "video/mp4"


def test_without_bases_uploads_go_to_up_flickr_and_checks_to_api_flickr(
    photo_request: PublishRequest,
) -> None:
    """Where requests would go in production, seen through an httpx transport that
    answers like Flickr without any network."""
    seen: list[httpx.Request] = []

    def flickr(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/services/upload/":
            return httpx.Response(200, text='<rsp stat="ok"><photoid>7</photoid></rsp>')
        user = {"id": USER_NSID, "username": {"_content": USERNAME}}
        return httpx.Response(200, json={"user": user, "stat": "ok"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(flickr)) as http:
            flickr_connector = connector(http, None)
            await flickr_connector.publish(photo_request)
            await flickr_connector.check()

    asyncio.run(go())
    upload, login = seen
    assert str(upload.url) == "https://up.flickr.com/services/upload/"
    assert login.url.copy_with(query=None) == "https://api.flickr.com/services/rest/"
    assert dict(parse_qsl(login.url.query.decode())) == {
        "method": "flickr.test.login",
        "format": "json",
        "nojsoncallback": "1",
    }
    for request in seen:
        assert request.headers["authorization"].startswith("OAuth ")


def test_upload_base_and_api_base_are_separate_hosts(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    with FakeFlickr() as uploads:
        outcome = publish(uploads, photo_request, upload_base=uploads.url, api_base=fake.url)

    assert isinstance(outcome, PublishResult)
    assert len(uploads.photos) == 1
    assert fake.requests == []


def test_a_missing_file_is_permanent_and_sends_nothing(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    photo_request.media[0].path.unlink()

    outcome = publish(fake, photo_request)

    assert isinstance(outcome, Permanent)
    assert outcome.code == "media_missing"
    assert fake.requests == []


# -- OAuth, as the fake verifies it ------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"consumer_secret": "0000wrong0secret"}, "signature_invalid"),
        ({"oauth_token_secret": "wrong0token0secret"}, "signature_invalid"),
        ({"consumer_key": "unknownconsumerkey0000"}, "consumer_key_unknown"),
        ({"oauth_token": "72157000000000000-0000000000000000"}, "token_rejected"),
    ],
)
def test_wrong_credentials_are_auth_expired(
    fake: FakeFlickr, photo_request: PublishRequest, change: dict[str, str], problem: str
) -> None:
    credentials = flickr_credentials(**change)

    outcome = publish(fake, photo_request, credentials)

    assert isinstance(outcome, AuthExpired), outcome
    assert problem in outcome.message
    assert "debug_sbs" not in outcome.message
    assert_no_secrets(outcome.message)
    for value in change.values():
        assert value not in outcome.message
    assert fake.photos == []


def test_a_revoked_token_is_auth_expired(fake: FakeFlickr, photo_request: PublishRequest) -> None:
    fake.revoke()

    outcome = publish(fake, photo_request)

    assert isinstance(outcome, AuthExpired)
    assert "token_rejected" in outcome.message


def test_the_photo_is_not_signed_but_every_other_field_is(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    """The fake signs over the text fields only: had the connector signed `photo`, or
    left a field out, verification would fail."""
    assert isinstance(publish(fake, photo_request), PublishResult)

    form = read_form(fake.requests[0])
    assert [f.name for f in form.files] == ["photo"]
    assert {k for k, _ in form.body_fields} == {
        "title",
        "description",
        "tags",
        "is_public",
        "is_friend",
        "is_family",
        "content_type",
        "hidden",
    }


# -- Flickr's answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind", "label"),
    [
        (96, AuthExpired, None),
        (97, AuthExpired, None),
        (98, AuthExpired, None),
        (99, AuthExpired, None),
        (100, AuthExpired, None),
        (2, Permanent, "no_photo"),
        (3, Permanent, "upload_failed"),
        (4, Permanent, "empty_file"),
        (5, Permanent, "unknown_filetype"),
        (6, Permanent, "upload_limit"),
        (9, Permanent, "duplicate"),
        (116, Permanent, "flickr_116"),
        (0, Transient, None),
        (105, Transient, None),
        (106, Transient, None),
    ],
)
def test_each_error_code_maps_to_its_kind(
    fake: FakeFlickr,
    photo_request: PublishRequest,
    code: int,
    kind: type[PublishError],
    label: str | None,
) -> None:
    fake.answer_next(flickr_error(code))

    outcome = publish(fake, photo_request)

    assert type(outcome) is kind, outcome
    assert f"error {code}" in outcome.message
    if label is not None:
        assert isinstance(outcome, Permanent)
        assert outcome.code == label


def test_the_upload_limit_says_so(fake: FakeFlickr, photo_request: PublishRequest) -> None:
    fake.answer_next(flickr_error(6))

    outcome = publish(fake, photo_request)

    assert isinstance(outcome, Permanent)
    assert "User exceeded upload limit" in outcome.message
    assert "upload limit" in outcome.message.split("(", 1)[1]


def test_an_empty_file_is_refused_by_flickr(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    photo_request.media[0].path.write_bytes(b"")

    outcome = publish(fake, photo_request)

    assert isinstance(outcome, Permanent)
    assert outcome.code == "empty_file"


def test_a_file_flickr_does_not_recognise_is_refused(
    fake: FakeFlickr, photo_request: PublishRequest
) -> None:
    photo_request.media[0].path.write_bytes(b"just some text")

    outcome = publish(fake, photo_request)

    assert isinstance(outcome, Permanent)
    assert "Filetype was not recognised" in outcome.message


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("120", NOW + timedelta(seconds=120)), (None, None)],
)
def test_too_many_requests_is_rate_limited(
    fake: FakeFlickr, photo_request: PublishRequest, retry_after: str | None, expected: object
) -> None:
    fake.answer_next(too_many_requests(retry_after))

    outcome = publish(fake, photo_request)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == expected


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (text_answer(503, "Service Unavailable"), Transient),
        (text_answer(404, "Not Found"), Permanent),
        (text_answer(200, "<html>maintenance</html>"), Ambiguous),
        (Answer(200, b'<rsp stat="ok"></rsp>', {"Content-Type": "text/xml"}), Ambiguous),
    ],
)
def test_other_answers(
    fake: FakeFlickr, photo_request: PublishRequest, answer: Answer, kind: type[PublishError]
) -> None:
    fake.answer_next(answer)

    assert type(publish(fake, photo_request)) is kind


def test_xml_with_entities_is_not_expanded(fake: FakeFlickr, photo_request: PublishRequest) -> None:
    """defusedxml refuses a DTD: an entity bomb in an answer is not read at all."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rsp [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<rsp stat="ok"><photoid>&b;</photoid></rsp>'
    )
    fake.answer_next(Answer(200, bomb, {"Content-Type": "text/xml"}))

    outcome = publish(fake, photo_request)

    assert isinstance(outcome, Ambiguous)


# -- check -------------------------------------------------------------------------------


def test_check_logs_in_and_names_the_account(fake: FakeFlickr) -> None:
    result = check(fake)

    assert result.ok, result.detail
    assert USERNAME in result.detail
    assert result.account == {"id": USER_NSID, "username": USERNAME}
    [sent] = fake.requests
    assert (sent.method, sent.path) == ("GET", "/services/rest/")
    assert fake.signatures_checked == 1
    assert fake.photos == []


def test_check_with_a_wrong_secret_is_not_ok(fake: FakeFlickr) -> None:
    result = check(fake, flickr_credentials(consumer_secret="0000wrong0secret"))

    assert not result.ok
    # Cadence's words only: a check repeats nothing the server said.
    assert result.detail == "Flickr refused the credentials: reconnect the channel"
    assert_no_secrets(result.detail)


def test_check_for_another_account_is_not_ok(fake: FakeFlickr) -> None:
    result = check(fake, user_nsid="11111111@N00")

    assert not result.ok
    assert USER_NSID in result.detail


def test_check_reads_flickrs_json_failure(fake: FakeFlickr) -> None:
    body = b'{"stat":"fail","code":98,"message":"Invalid auth token"}'
    fake.answer_next(Answer(200, body, {"Content-Type": "application/json"}))

    result = check(fake)

    assert not result.ok
    assert "Invalid auth token" not in result.detail  # the server's words stay out
    assert "Flickr" in result.detail
