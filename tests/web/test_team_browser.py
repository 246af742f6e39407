"""The team workflow in a real browser against a real `cadence serve`: a contributor
submits, an editor approves from the queue, the post is published to a fake channel,
and the audit page shows each step."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.sinks import SinkServer
from tests.web.conftest import PASSWORD, ZONE, Server, log_in

CONTRIBUTOR = "champion@example.org"
APPROVER = "approver@example.org"


def _person(server: Server, email: str, role: str) -> None:
    server.cli(
        "user", "set-password", "--email", email, "--role", role, "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip


def _wait(condition: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_contributor_submits_editor_approves_it_is_published_and_audited(
    browser: Any, server: Server
) -> None:
    _person(server, CONTRIBUTOR, "contributor")
    _person(server, APPROVER, "editor")
    server.objective("Staff stories", color="#1d4ed8")
    with SinkServer() as sink:
        server.channel(
            name="Staff newsletter hook",
            platform="webhook",
            audience="internal",
            config={"url": sink.url_for("/hook")},
        )
        contexts = []
        try:
            pages = []
            for _ in range(2):
                context = browser.new_context(base_url=server.base, locale="en-GB")
                context.set_default_timeout(10_000)
                contexts.append(context)
                pages.append(context.new_page())
            writer, approver = pages

            log_in(writer, CONTRIBUTOR)
            soon = datetime.now(ZoneInfo(ZONE)) + timedelta(seconds=90)
            writer.goto(f"/posts/new?day={soon.date().isoformat()}")
            writer.get_by_label("Text").fill("Meet Sam from the helpline team")
            writer.get_by_label("Staff stories").check()
            writer.get_by_label("Staff newsletter hook").check()
            # Soon, but not so soon that the time is in the past when the form arrives.
            writer.get_by_label("Time").fill(soon.strftime("%H:%M"))
            writer.get_by_role("button", name="Submit for approval").click()
            writer.wait_for_url("**/posts/*?notice=submitted")
            assert "Awaiting approval" in writer.locator("h1").inner_text()
            post_id = writer.url.split("/posts/")[1].split("?")[0]
            assert server.api.get(f"/posts/{post_id}").json()["status"] == "pending_approval"

            log_in(approver, APPROVER)
            approver.get_by_role("link", name="Approvals").click()
            item = approver.locator(f"#pending-{post_id}")
            assert "Meet Sam" in item.inner_text()
            item.get_by_role("button", name="Approve").click()
            approver.wait_for_url("**/approvals?notice=approved")
            assert approver.locator(f"#pending-{post_id}").count() == 0

            # Published at its time (30 to 90 s on) by the server's own scheduler.
            published = _wait(
                lambda: server.api.get(f"/posts/{post_id}").json()["status"] == "published",
                timeout=240,
            )
            assert published
            assert "Meet Sam" in sink.requests_to("/hook")[0].text

            approver.goto("/audit?subject_type=post")
            rows = approver.locator("table.audit tbody tr")
            steps = [
                rows.nth(i).locator("th").inner_text()
                for i in range(rows.count())
                if post_id in (rows.nth(i).locator("a").get_attribute("href") or "")
            ]
            assert steps == ["approve", "submit", "create"]
            text = approver.locator("table.audit").inner_text()
            assert CONTRIBUTOR in text and APPROVER in text
        finally:
            for context in contexts:
                context.close()
