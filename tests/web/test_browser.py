"""The web pages in a real browser against a real `cadence serve`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image

from tests.web.conftest import ADMIN, PASSWORD, ZONE, Server, log_in

DEAD_HOOK = "http://127.0.0.1:9/hook"  # never reached: the posts here are days ahead


def _hook(server: Server, name: str) -> dict[str, Any]:
    return server.channel(
        name=name, platform="webhook", audience="internal", config={"url": DEAD_HOOK}
    )


def _day_cell(page: Any, day: str) -> Any:
    return page.locator(f'li.day[data-day="{day}"]')


def test_login_refuses_a_wrong_password_then_lets_the_right_one_in(
    page: Any, server: Server
) -> None:
    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")
    page.get_by_label("E-mail").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert "do not match" in page.get_by_role("alert").inner_text()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/calendar")
    cookie = next(c for c in page.context.cookies() if c["name"] == "cadence_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # plain http here; https requests get a Secure cookie

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto("/calendar")
    page.wait_for_url("**/login?next=/calendar")


def test_a_composed_post_shows_on_the_calendar(page: Any, server: Server, tmp_path: Path) -> None:
    objective = server.objective("Fundraising events", color="#c2410c")
    hook = _hook(server, "Intranet news")
    day = (server.today() + timedelta(days=2)).isoformat()
    log_in(page)

    page.goto(f"/posts/new?day={day}")
    page.get_by_label("Text").fill("Quiz night on Friday: bring your team")
    page.get_by_label("Fundraising events").check()
    page.get_by_label("Intranet news").check()
    page.get_by_label("Time").fill("18:30")
    # Media goes up at once through the media service and shows a preview.
    picture = tmp_path / "poster.png"
    Image.new("RGB", (64, 48), "#c2410c").save(picture)
    page.get_by_label("Media").set_input_files(str(picture))
    preview = page.locator(".media-item img")
    preview.wait_for()
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 64
    # The live check runs the webhook platform's own rules for the chosen channel.
    page.locator(f'#checks li[data-channel="{hook["id"]}"]').wait_for()
    page.get_by_role("button", name="Schedule").click()

    page.wait_for_url("**/posts/*?notice=scheduled")
    assert "Scheduled" in page.locator("h1").inner_text()
    assert "18:30" in page.locator(".facts").inner_text()
    # The time typed in the person's zone is stored as the same instant in UTC.
    post_id = page.url.split("/posts/")[1].split("?")[0]
    stored = server.api.get(f"/posts/{post_id}").json()
    expected = datetime.fromisoformat(f"{day}T18:30").replace(tzinfo=ZoneInfo(ZONE))
    assert datetime.fromisoformat(stored["scheduled_at"]) == expected
    assert stored["objective_ids"] == [objective["id"]]
    assert stored["channel_ids"] == [hook["id"]]
    [media_id] = stored["media_ids"]
    assert server.api.get(f"/media/{media_id}").json()["width"] == 64
    row = page.locator("table.deliveries tbody tr")
    assert "Intranet news" in row.inner_text()

    page.get_by_role("link", name="Show in calendar").click()
    chip = _day_cell(page, day).locator(".chip")
    assert chip.count() == 1
    text = chip.inner_text()
    assert "18:30" in text and "Quiz night" in text and "Scheduled" in text
    # The chip takes its objective's colour (and says its status in words as well).
    assert "194, 65, 12" in chip.evaluate("e => getComputedStyle(e).borderLeftColor")


def test_an_uncovered_day_is_marked_until_a_post_covers_it(page: Any, server: Server) -> None:
    objective = server.objective("Volunteering", color="#15803d")
    _hook(server, "Volunteer list")
    day = (server.today() + timedelta(days=3)).isoformat()
    log_in(page)

    page.goto(f"/calendar?date={day}")
    mark = _day_cell(page, day).locator(f'.gap.uncovered[data-objective="{objective["id"]}"]')
    assert mark.count() == 1
    assert "Volunteering" in mark.inner_text() and "0/1" in mark.inner_text()

    # Clicking the day (not a post in it) opens the compose form for that day.
    _day_cell(page, day).locator(".day-head").click(position={"x": 30, "y": 5})
    page.wait_for_url(f"**/posts/new?day={day}")
    assert page.get_by_label("Date").input_value() == day
    page.get_by_label("Text").fill("Thank you, volunteers")
    page.get_by_label("Volunteering").check()
    page.get_by_label("Volunteer list").check()
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/posts/*?notice=scheduled")

    page.goto(f"/calendar?date={day}")
    assert _day_cell(page, day).locator(".chip").count() == 1
    assert mark.count() == 0


def test_a_too_long_x_post_is_refused_next_to_the_text(page: Any, server: Server) -> None:
    server.objective("Support and information", color="#1d4ed8")
    x = server.channel(
        name="Main X account",
        platform="x",
        config={"username": "charity"},
        credentials={
            "consumer_key": "dummy-consumer-key",
            "consumer_secret": "dummy-consumer-secret",
            "access_token": "dummy-access-token",
            "access_token_secret": "dummy-access-token-secret",
        },
    )
    before = server.api.get("/posts").json()["total"]
    log_in(page)
    page.goto(f"/posts/new?day={(server.today() + timedelta(days=4)).isoformat()}")
    page.get_by_label("Support and information").check()
    page.get_by_label("Main X account").check()
    # A URL counts 23 as X counts it: 270 letters + space + URL = 294 of 280.
    page.get_by_label("Text").fill("a" * 270 + " https://example.org/a-very-long-path")
    counter = page.locator(f'#checks li[data-channel="{x["id"]}"]')
    counter.locator("text=294 / 280").wait_for()
    assert "over" in (counter.get_attribute("class") or "")

    page.get_by_role("button", name="Schedule").click()
    assert page.locator("h2", has_text="The post was not saved").is_visible()
    error = page.locator("#text-error")
    assert "294 of 280 characters as X counts them" in error.inner_text()
    text = page.get_by_label("Text")
    assert text.get_attribute("aria-invalid") == "true"
    assert "text-error" in (text.get_attribute("aria-describedby") or "")
    assert text.input_value().startswith("a" * 270)  # what was typed is kept
    assert server.api.get("/posts").json()["total"] == before  # nothing stored

    # Internal only turns the external X channel off.
    page.get_by_label("Internal only").check()
    assert page.get_by_label("Main X account").is_disabled()


def test_a_form_posted_without_its_csrf_token_is_refused(page: Any, server: Server) -> None:
    log_in(page)
    before = server.api.get("/posts").json()["total"]
    form = {"text": "forged", "day": server.today().isoformat(), "time": "12:00"}
    # The session cookie goes along (same browser context), the token does not.
    response = page.request.post("/posts/new", form=form)
    assert response.status == 403
    response = page.request.post("/posts/new", form={**form, "csrf_token": "wrong"})
    assert response.status == 403
    response = page.request.post("/web/validate", data={"text": "x", "channel_ids": []})
    assert response.status == 403
    assert server.api.get("/posts").json()["total"] == before
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    ok = page.request.post("/web/validate", data={"text": "x"}, headers={"X-CSRF-Token": token})
    assert ok.status == 200


def test_every_form_control_has_a_label_and_the_calendar_fits_a_phone(
    page: Any, server: Server
) -> None:
    log_in(page)
    unlabelled = """() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')).filter(
        e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.outerHTML)"""
    # planning: the weekly slot grid of an objective (and the pause switch on every page).
    slots = f"/objectives/{server.objective('Slots grid')['id']}/slots"
    for path in (
        "/posts/new",
        "/calendar",
        "/channels/new?platform=email",
        "/channels/new?platform=bluesky",
        "/channels/new?platform=linkedin",
        "/profile",
        "/users",
        slots,
        # team workflow
        "/approvals",
        "/audit",
        "/guardrails",
        "/champions",
    ):
        page.goto(path)
        assert page.evaluate(unlabelled) == [], path
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/calendar", "/posts/new", "/alerts", "/channels", "/insights", "/digest", slots,
                 "/approvals", "/audit", "/guardrails", "/champions"):  # fmt: skip
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
