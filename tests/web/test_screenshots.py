"""The main pages with a realistic, fixed set of data: checked in the browser, and
saved as docs/screenshots/*.png when CADENCE_SCREENSHOTS=1 (otherwise to a temporary
folder, so a normal test run does not rewrite them)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.processes import ROOT, start_sink
from tests.web.conftest import ZONE, Server, log_in

DEAD = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def sink() -> Iterator[str]:
    proc, url = start_sink()
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("CADENCE_SCREENSHOTS") == "1":
        folder = ROOT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path


def _wait_for(server: Server, post_id: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        post: dict[str, Any] = server.api.get(f"/posts/{post_id}").json()
        if post["status"] in statuses:
            return post
        assert time.monotonic() < deadline, post
        time.sleep(0.2)


def _plan(server: Server, sink: str) -> dict[str, Any]:
    """Three objectives, four channels, a fortnight of posts with a few gaps."""
    fundraising = server.objective(
        "Fundraising events", color="#c2410c", description="Quiz nights, fun runs, raffles"
    )
    support = server.objective("Support and information", color="#1d4ed8")
    volunteering = server.objective(
        "Volunteering", color="#15803d", active_weekdays=[0, 1, 2, 3, 4]
    )
    # Objectives made five days ago, so the days before today count (and are missed).
    with sqlite3.connect(server.db_path, timeout=30) as db:
        db.execute(
            "UPDATE objectives SET created_at = ?",
            ((datetime.now(UTC) - timedelta(days=5)).strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )
    x = server.channel(
        name="Main X account",
        platform="x",
        config={"username": "charity", "api_base": DEAD},
        credentials={
            "consumer_key": "dummy-consumer-key",
            "consumer_secret": "dummy-consumer-secret",
            "access_token": "dummy-access-token",
            "access_token_secret": "dummy-access-token-secret",
        },
    )
    intranet = server.channel(
        name="Intranet news",
        platform="webhook",
        audience="internal",
        config={"url": f"{sink}/hook"},
        receives_alerts=True,
    )
    slack = server.channel(
        name="Staff Slack",
        platform="slack",
        credentials={"webhook_url": f"{DEAD}/services/T000/B000/XXXX"},
    )
    server.channel(
        name="Supporters newsletter",
        platform="email",
        config={
            "host": "127.0.0.1",
            "port": 2525,
            "security": "none",
            "from_address": "news@charity.example",
            "to_addresses": ["supporters@charity.example"],
        },
        status="disabled",
    )

    now = datetime.now(UTC)
    soon = (now + timedelta(seconds=2)).isoformat()

    def post(text: str, objectives: list[str], channels: list[str], when: str, **more: Any) -> str:
        response = server.api.post(
            "/posts",
            json={
                "text": text,
                "objective_ids": objectives,
                "channel_ids": channels,
                "scheduled_at": when,
                **more,
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    published = post(
        "Thank you to the 40 runners who raised £3,200 at Sunday's fun run!",
        [fundraising["id"]],
        [intranet["id"]],
        soon,
    )
    failed = post(
        "Our helpline is open 9 to 5 on weekdays: call 0800 000 000 for confidential support.",
        [support["id"], volunteering["id"]],
        [x["id"], slack["id"]],
        soon,
    )
    today = server.today()
    plans = [
        (
            1,
            "10:00",
            "Quiz night on Friday at the Crown: teams of six, £5 each",
            [fundraising],
            [x, intranet],
        ),
        (
            1,
            "14:30",
            "Volunteer drivers needed for the Tuesday lunch club",
            [volunteering],
            [intranet, slack],
        ),
        (2, "09:15", "New leaflet: what to expect at your first appointment", [support], [x]),
        (
            3,
            "11:00",
            "Raffle prizes announced: a weekend in the Lakes and more",
            [fundraising],
            [x, intranet],
        ),
        (
            4,
            "16:00",
            "Drop-in advice session this Thursday, no appointment needed",
            [support],
            [intranet],
        ),
        (
            6,
            "10:30",
            "Meet Priya, who has volunteered with us for ten years",
            [volunteering, support],
            [x, slack],
        ),
        (
            8,
            "12:00",
            "Fun run sign-ups are open: 5 km or 10 km around the park",
            [fundraising],
            [x],
        ),
        (9, "09:00", "Staff briefing: new safeguarding guidance", [support], [intranet]),
    ]
    for days, at, text, objectives, channels in plans:
        local = datetime.fromisoformat(f"{today + timedelta(days=days)}T{at}:00")
        aware = local.replace(tzinfo=ZoneInfo(ZONE))
        post(text, [o["id"] for o in objectives], [c["id"] for c in channels], aware.isoformat())
    draft = server.api.post(
        "/posts",
        json={"text": "Ideas for the spring appeal (draft)", "status": "draft"},
    )
    assert draft.status_code == 201
    _wait_for(server, published, {"published"})
    _wait_for(server, failed, {"failed"})
    assert server.api.post("/coverage/check").status_code == 200
    return {"failed": failed, "published": published, "x": x, "support": support}


def test_main_pages_with_a_fortnight_of_plans(
    browser: Any, server: Server, sink: str, shots: Path
) -> None:
    data = _plan(server, sink)
    context = browser.new_context(
        base_url=server.base, viewport={"width": 1280, "height": 860}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login")
        page.screenshot(path=str(shots / "login.png"))
        log_in(page)

        page.goto("/calendar")
        today = server.today().isoformat()
        cell = page.locator(f'li.day[data-day="{today}"]')
        # Alert announcements are posts too, but never calendar content.
        assert "Cadence alert" not in cell.inner_text()
        assert cell.locator(".chip").count() == 2
        assert cell.locator(".chip.status-published").count() == 1
        assert cell.locator(".chip.status-failed").count() == 1
        assert page.locator(".gap.uncovered").count() > 0
        page.screenshot(path=str(shots / "calendar.png"), full_page=True)

        page.goto(f"/posts/{data['failed']}")
        assert page.locator("h1").inner_text().strip().endswith("Failed")
        rows = page.locator("table.deliveries tbody tr")
        assert rows.count() == 2
        assert page.get_by_role("button", name="Retry on Main X account").is_visible()
        assert "The platform said:" in page.locator("table.deliveries").inner_text()
        page.screenshot(path=str(shots / "post.png"), full_page=True)

        page.goto(f"/posts/new?day={(server.today() + timedelta(days=5)).isoformat()}")
        page.get_by_label("Text").fill(
            "Our summer fair is on Saturday 14 June, 12 to 4, at the community hall: "
            "cakes, a tombola, face painting and the famous dog show. Volunteers "
            "welcome! Details and stall bookings: https://charity.example/summer-fair "
            "#SummerFair"
        )
        page.get_by_label("Fundraising events").check()
        page.get_by_label("Main X account").check()
        page.get_by_label("Intranet news").check()
        page.locator(f'#checks li[data-channel="{data["x"]["id"]}"]').wait_for()
        page.get_by_label("Time").fill("11:00")
        page.screenshot(path=str(shots / "compose.png"), full_page=True)

        page.goto("/coverage")
        for state in ("covered", "uncovered", "missed"):
            assert page.locator(f"td.{state}").count() > 0, state
        first = page.locator("td.uncovered a").first
        assert "planned" in (first.get_attribute("title") or "")
        assert "planned" in first.locator(".visually-hidden").inner_text()
        page.screenshot(path=str(shots / "coverage.png"), full_page=True)

        page.goto("/alerts")
        open_before = page.locator("li.alert.open").count()
        assert open_before > 1
        # Open alerts come first; acknowledging one moves it to its own section.
        first = page.locator("li.alert.open").first
        first_id = first.get_attribute("id")
        first.get_by_role("button", name="Acknowledge").click()
        page.wait_for_url("**/alerts?notice=acknowledged")
        assert page.locator(f"li.alert.acknowledged#{first_id}").count() == 1
        assert page.locator("li.alert.open").count() == open_before - 1
        page.screenshot(path=str(shots / "alerts.png"))

        page.goto("/channels")
        assert page.locator("table.channels tbody tr").count() == 4
        assert "dummy" not in page.content()  # credentials are never shown back
        page.screenshot(path=str(shots / "channels.png"), full_page=True)

        # insights
        page.goto("/insights")
        assert page.locator("section.insight svg").count() >= 4
        page.locator("section.insight").first.screenshot(path=str(shots / "insights.png"))

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/calendar?view=week")
        page.screenshot(path=str(shots / "calendar-phone.png"), full_page=True)
    finally:
        context.close()
