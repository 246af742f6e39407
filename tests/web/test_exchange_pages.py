"""The exchange pages (spreadsheet import, calendar feeds) in a real browser against a real
`cadence serve`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.web.conftest import Server, log_in
from tests.web.test_accessibility import violations

HEADER = "text;scheduled_at;objectives;channels\n"
UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea')).filter(
    e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.outerHTML)"""


def _file(body: str) -> dict[str, Any]:
    return {"name": "posts.csv", "mimeType": "text/csv", "buffer": body.encode("utf-8-sig")}


def test_a_file_is_checked_shown_with_its_problems_then_imported_on_confirm(
    page: Any, server: Server
) -> None:
    server.objective("Open days", color="#b45309")
    server.channel(
        name="Import hook",
        platform="webhook",
        audience="internal",
        config={"url": "http://127.0.0.1:9/hook"},
    )
    day = (server.today() + timedelta(days=5)).isoformat()
    before = server.api.get("/posts").json()["total"]
    log_in(page)
    page.goto("/calendar")
    page.get_by_role("link", name="Import").click()
    page.wait_for_url("**/import")
    assert page.evaluate(UNLABELLED) == []

    bad = HEADER + f'"Come and see\nthe labs";{day} 10:00;Open days;Nowhere\n'
    page.get_by_label("CSV file").set_input_files(_file(bad))
    page.get_by_role("button", name="Check the file").click()
    assert "nothing was imported" in page.get_by_role("alert").inner_text()
    cell = page.locator("table.import-preview td.problem")
    assert cell.count() == 1
    assert "no channel has the name or id 'Nowhere'" in cell.inner_text()
    assert server.api.get("/posts").json()["total"] == before

    good = bad.replace("Nowhere", "Import hook") + f"Second;{day} 11:00;Open days;Import hook\n"
    page.get_by_label("CSV file").set_input_files(_file(good))
    page.get_by_role("button", name="Check the file").click()
    assert page.locator("table.import-preview tbody tr").count() == 2
    assert server.api.get("/posts").json()["total"] == before  # a check stores nothing
    page.get_by_role("button", name="Import 2 posts").click()
    page.wait_for_url("**/calendar?notice=imported")
    texts = [p["text"] for p in server.api.get("/posts", params={"limit": 100}).json()["items"]]
    assert "Come and see\nthe labs" in texts and "Second" in texts

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/import")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_calendar_feed_is_made_replaced_and_revoked_from_the_profile(
    page: Any, server: Server
) -> None:
    log_in(page)
    page.goto("/profile")
    page.get_by_role("link", name="Calendar feeds").click()
    page.wait_for_url("**/profile/feeds")
    page.get_by_role("button", name="New feed").click()
    first = page.get_by_label("Feed address").input_value()
    assert "/calendar/feeds/calf_" in first and first.endswith(".ics")
    assert page.evaluate(UNLABELLED) == []
    assert httpx.get(first).status_code == 200

    page.get_by_role("button", name="Replace").click()
    second = page.get_by_label("Feed address").input_value()
    assert second != first
    assert httpx.get(first).status_code == 404 and httpx.get(second).status_code == 200

    page.get_by_role("button", name="Revoke").click()
    page.wait_for_url("**/profile/feeds?notice=saved")
    assert "You have no feed yet" in page.content()
    assert httpx.get(second).status_code == 404


def test_a_channel_gets_its_own_text_in_a_keyboard_tab_with_its_own_counter(
    page: Any, server: Server
) -> None:
    server.objective("Versions", color="#7c3aed")
    x = server.channel(
        name="Versions X",
        platform="x",
        config={"username": "cadence"},
        credentials={
            "consumer_key": "ck",
            "consumer_secret": "cs-secret",
            "access_token": "at",
            "access_token_secret": "ats-secret",
        },
    )
    server.channel(
        name="Versions hook",
        platform="webhook",
        audience="internal",
        config={"url": "http://127.0.0.1:9/hook"},
    )
    day = (server.today() + timedelta(days=6)).isoformat()
    log_in(page)
    page.goto(f"/posts/new?day={day}")
    page.get_by_label("Text", exact=True).fill("Our open day: labs, talks and tours. " * 10)
    page.get_by_label("Versions", exact=True).check()
    page.get_by_label("Versions X").check()
    page.get_by_label("Versions hook").check()

    main_tab = page.get_by_role("tab", name="All channels")
    assert main_tab.get_attribute("aria-selected") == "true"
    main_tab.focus()
    page.keyboard.press("ArrowRight")
    x_tab = page.get_by_role("tab", name="Versions X")
    assert x_tab.get_attribute("aria-selected") == "true"
    assert page.evaluate("document.activeElement.id") == f"tab-{x['id']}"
    panel = page.get_by_role("tabpanel")
    assert "publishes the main text" in panel.inner_text()
    panel.get_by_role("button", name="Customise for this channel").click()
    own = page.get_by_label("Text for Versions X")
    own.fill("Open day on Saturday!")
    page.locator(f"#counter-{x['id']}", has_text="21 / 280").wait_for()
    assert page.evaluate(UNLABELLED) == []
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/posts/*?notice=scheduled")
    post_id = page.url.split("/posts/")[1].split("?")[0]
    stored = server.api.get(f"/posts/{post_id}").json()
    assert stored["versions"][x["id"]]["text"] == "Open day on Saturday!"

    # Editing: the version is there, and "Back to the main text" drops it.
    page.goto(f"/posts/{post_id}/edit")
    page.get_by_role("tab", name="Versions X").click()
    assert page.get_by_label("Text for Versions X").input_value() == "Open day on Saturday!"
    page.get_by_role("button", name="Back to the main text").click()
    assert page.get_by_role("button", name="Customise for this channel").is_visible()
    page.get_by_role("tab", name="All channels").click()
    page.get_by_label("Text", exact=True).fill("Short enough for X now")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/posts/*?notice=*")
    assert server.api.get(f"/posts/{post_id}").json()["versions"] == {}


def test_a_channel_version_has_its_own_title_and_link_and_the_main_counter_defers_to_it(
    page: Any, server: Server
) -> None:
    server.objective("Own links", color="#0f766e")
    x = server.channel(
        name="Links X",
        platform="x",
        config={"username": "cadence"},
        credentials={
            "consumer_key": "ck",
            "consumer_secret": "cs-secret",
            "access_token": "at",
            "access_token_secret": "ats-secret",
        },
    )
    hook = server.channel(
        name="Links hook",
        platform="webhook",
        audience="internal",
        config={"url": "http://127.0.0.1:9/hook"},
    )
    day = (server.today() + timedelta(days=7)).isoformat()
    log_in(page)
    page.goto(f"/posts/new?day={day}")
    page.get_by_label("Text", exact=True).fill("Our open day: labs, talks and tours. " * 10)
    page.locator("#title").fill("Open day")
    page.get_by_label("Own links", exact=True).check()
    page.get_by_label("Links X").check()
    page.get_by_label("Links hook").check()
    # The main text is too long for X: the main counter says so.
    main_x = page.locator(f'#checks li[data-channel="{x["id"]}"]')
    page.locator(f'#checks li.over[data-channel="{x["id"]}"]').wait_for()

    page.get_by_role("tab", name="Links X").click()
    page.get_by_role("button", name="Customise for this channel").click()
    page.get_by_label("Text for Links X").fill("Open day on Saturday!")
    # Keyboard order: the version's text, then its title, then its link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"version-title-{x['id']}"
    page.keyboard.type("Open day (X)")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == f"version-link-{x['id']}"
    page.keyboard.type("https://example.org/x")
    page.locator(f"#counter-{x['id']}", has_text="46 / 280").wait_for()
    # The main counter no longer gives X the main text's verdict, but defers to its tab.
    # (the main counter is under the main tab, hidden while X's is shown)
    page.locator(f'#checks li.own[data-channel="{x["id"]}"]', has_text="own version").wait_for(
        state="attached"
    )
    assert "over" not in (main_x.get_attribute("class") or "")
    assert page.locator(f'#checks li[data-channel="{hook["id"]}"] .counter').count() == 1
    assert page.evaluate(UNLABELLED) == []
    assert violations(page) == []  # axe-core on the open tab with its three fields
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/posts/*?notice=scheduled")
    post_id = page.url.split("/posts/")[1].split("?")[0]
    stored = server.api.get(f"/posts/{post_id}").json()
    assert stored["versions"] == {
        x["id"]: {
            "text": "Open day on Saturday!",
            "title": "Open day (X)",
            "link": "https://example.org/x",
        }
    }

    # Editing: all three come back; "Back to the main text" drops all three.
    page.goto(f"/posts/{post_id}/edit")
    page.get_by_role("tab", name="Links X").click()
    assert page.get_by_label("Text for Links X").input_value() == "Open day on Saturday!"
    assert page.get_by_label("Title for Links X").input_value() == "Open day (X)"
    assert page.get_by_label("Link for Links X").input_value() == "https://example.org/x"
    page.set_viewport_size({"width": 390, "height": 844})
    assert violations(page) == []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator(f'#checks li.own[data-channel="{x["id"]}"]').wait_for(state="attached")
    page.get_by_role("button", name="Back to the main text").click()
    assert page.get_by_label("Title for Links X").count() == 0
    assert page.get_by_label("Link for Links X").count() == 0
    page.locator(f'#checks li.over[data-channel="{x["id"]}"]').wait_for(state="attached")
    page.get_by_role("tab", name="All channels").click()
    page.get_by_label("Text", exact=True).fill("Short enough for X now")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/posts/*?notice=*")
    assert server.api.get(f"/posts/{post_id}").json()["versions"] == {}
