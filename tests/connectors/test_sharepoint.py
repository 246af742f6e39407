"""SharePoint news specifics: the site page it makes (a news post, the text as HTML),
publishing it, what each failure means, the title rule and the internal audience."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from connectors.base import (
    AuthExpired,
    CheckResult,
    Permanent,
    PublishError,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.sharepoint import (
    SharePointConfig,
    SharePointConnector,
    SharePointCredentials,
    page_html,
)
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import REQUEST
from tests.fakes.sharepoint import (
    READ_ONLY_TOKEN,
    SITE_ID,
    SITE_URL,
    TOKEN,
    FakeSharePoint,
    unavailable,
)
from tests.fakes.sinks import Answer


@pytest.fixture
def fake() -> Iterator[FakeSharePoint]:
    with FakeSharePoint() as server:
        yield server


def connector(http: httpx.AsyncClient, fake: FakeSharePoint, **changes: str) -> SharePointConnector:
    values = {"site_id": SITE_ID, "token": TOKEN, **changes}
    return SharePointConnector(
        SharePointConfig(site_id=values["site_id"], api_base=fake.url),
        SharePointCredentials(access_token=values["token"]),
        http,
        now=lambda: NOW,
    )


def publish(
    fake: FakeSharePoint, request: object = REQUEST, **changes: str
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with httpx.AsyncClient() as http:
            try:
                return await connector(http, fake, **changes).publish(request)  # type: ignore[arg-type]
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def test_a_news_post_is_made_then_published(fake: FakeSharePoint) -> None:
    outcome = publish(fake)

    assert isinstance(outcome, PublishResult)
    [page] = fake.published()
    assert page.body["promotionKind"] == "newsPost"
    assert page.body["title"] == REQUEST.title
    assert page.body["name"].endswith(".aspx")
    assert outcome == PublishResult(page.id, f"{SITE_URL}/{page.web_url}")
    [section] = page.body["canvasLayout"]["horizontalSections"]
    [part] = section["columns"][0]["webparts"]
    assert part["innerHtml"] == page_html(REQUEST)


def test_the_text_is_escaped_html_with_the_link_and_files() -> None:
    text = page_html(REQUEST)
    assert "Bring cakes &amp; &lt;friends&gt;!" in text
    assert "<br>" in text  # the line break inside the paragraph
    assert f'<a href="{REQUEST.link.replace("&", "&amp;")}">' in text  # type: ignore[union-attr]
    assert REQUEST.media[0].url in text  # type: ignore[operator]


def test_a_failure_before_publishing_leaves_only_an_unseen_draft(fake: FakeSharePoint) -> None:
    fake.answer_next(unavailable(), endpoint="create")

    outcome = publish(fake)

    assert isinstance(outcome, Transient)
    assert fake.published() == []


def test_a_503_with_retry_after_is_graph_throttling(fake: FakeSharePoint) -> None:
    fake.answer_next(Answer(503, b"", {"Retry-After": "12"}), endpoint="publish")

    outcome = publish(fake)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at is not None
    assert (outcome.retry_at - NOW).total_seconds() == 12


def test_a_token_without_write_permission_is_auth_expired(fake: FakeSharePoint) -> None:
    outcome = publish(fake, token=READ_ONLY_TOKEN)

    assert isinstance(outcome, AuthExpired)
    assert fake.pages == {}


def test_an_unknown_site_is_permanent(fake: FakeSharePoint) -> None:
    outcome = publish(fake, site_id="contoso.sharepoint.com,0,0")

    assert isinstance(outcome, Permanent)
    assert outcome.code == "itemNotFound"


def test_a_title_is_required_and_the_audience_is_internal() -> None:
    problems = SharePointConnector.validate(replace(REQUEST, title=None))
    assert [p.field for p in problems] == ["title"]
    assert SharePointConnector.audience == "internal"


def test_check_names_the_site(fake: FakeSharePoint) -> None:
    async def go() -> CheckResult:
        async with httpx.AsyncClient() as http:
            return await connector(http, fake).check()

    result = asyncio.run(go())

    assert result.ok, result.detail
    assert result.account["name"] == "Staff news"
    assert fake.pages == {}
