"""The exchange pages (spreadsheet import, calendar feeds) in a real browser against a real
`cadence serve`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.web.conftest import Server, log_in

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
