"""The SharePoint news connector in the contract suite, against tests.fakes.sharepoint.

Every scripted answer is for the publish action, the step that makes the news post
visible, so each case is about publishing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from connectors.base import Connector, PublishResult
from connectors.sharepoint import (
    SharePointConfig,
    SharePointConnector,
    SharePointCredentials,
    page_name,
)
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import HANG_SECONDS, REQUEST, FakePlatformHarness, Harness
from tests.fakes.sharepoint import (
    SITE_ID,
    SITE_URL,
    TOKEN,
    FakeSharePoint,
    graph_error,
    throttled,
    unavailable,
)
from tests.fakes.sinks import drop, hang

PUBLISH = "publish"


class SharePointHarness(FakePlatformHarness):
    name = "sharepoint"
    secrets = (TOKEN,)

    def connector(
        self,
        http: httpx.AsyncClient,
        *,
        now: Callable[[], datetime] | None = None,
        timeout: float = 2.0,
        refused: bool = False,
    ) -> Connector:
        base = f"http://127.0.0.1:{self.dead_port}" if refused else self.fake.url
        return SharePointConnector(
            SharePointConfig(site_id=SITE_ID, api_base=base),
            SharePointCredentials(access_token=TOKEN),
            http,
            now=now or (lambda: NOW),
        )

    def succeed(self) -> PublishResult:
        name = page_name(REQUEST.title or "", REQUEST.delivery_id, int(NOW.timestamp()))
        return PublishResult(self.fake.next_page_id(), f"{SITE_URL}/SitePages/{name}")

    def rate_limit(self, retry_after: str) -> None:
        self.fake.answer_next(throttled(retry_after), endpoint=PUBLISH)

    def fail_temporarily(self) -> None:
        self.fake.answer_next(unavailable(), endpoint=PUBLISH)

    def kill_credentials(self) -> None:
        self.fake.revoke()

    def refuse_content(self) -> str:
        words = "The page cannot be published: it is checked out to another user"
        self.fake.answer_next(graph_error(400, "invalidRequest", words), endpoint=PUBLISH)
        return words

    def hang(self) -> None:
        self.fake.answer_next(hang(HANG_SECONDS), endpoint=PUBLISH)

    def hang_up(self) -> None:
        self.fake.answer_next(drop(), endpoint=PUBLISH)

    def deliveries(self) -> int:
        return len([r for r in self.fake.requests if r.path.endswith(".sitePage/publish")])


def sharepoint_harness(request: pytest.FixtureRequest, transport: str, dead_port: int) -> Harness:
    fake = FakeSharePoint().start()
    request.addfinalizer(fake.stop)
    return SharePointHarness(fake, transport, dead_port)


HARNESSES = {"sharepoint": sharepoint_harness}
