"""Every page passes axe-core's WCAG 2.1 A and AA rules, on a desktop and a phone screen,
and no page changes the keyboard order with a positive tabindex.

axe-core runs inside Chromium on the real `cadence serve` (its script comes with the
axe-playwright-python package). PAGES lists each page with the address to check; a
test compares it with the application's routes, so a new page cannot miss the check.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

import app
from tests.web.conftest import Server, log_in

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def ids(server: Server) -> dict[str, str]:
    """One of each thing the pages show: an objective with a target (so coverage has
    alerts), an internal channel and a scheduled post."""
    objective = server.objective("Support people", color="#0f766e", min_posts_per_day=2)
    channel = server.channel(
        name="Intranet news",
        platform="webhook",
        audience="internal",
        config={"url": "http://127.0.0.1:9/hook"},
    )
    when = (server.today() + timedelta(days=3)).isoformat() + "T09:30:00+00:00"
    post = server.api.post(
        "/posts",
        json={
            "text": "Drop-in advice sessions start on Monday in the atrium.",
            "scheduled_at": when,
            "objective_ids": [objective["id"]],
            "channel_ids": [channel["id"]],
            # exchange: the edit page shows the channel's own text, title and link.
            "versions": {
                channel["id"]: {"title": "Advice sessions", "link": "https://example.org/advice"}
            },
        },
    )
    assert post.status_code == 201, post.text
    server.api.post("/coverage/check")
    return {"post": post.json()["id"], "channel": channel["id"], "objective": objective["id"]}


# Page route -> the address to check, from the seeded ids.
PAGES: dict[str, Callable[[dict[str, str]], str]] = {
    "/login": lambda ids: "/login",
    "/calendar": lambda ids: "/calendar",
    "/posts": lambda ids: "/posts",
    "/posts/new": lambda ids: "/posts/new",
    "/posts/{post_id}": lambda ids: f"/posts/{ids['post']}",
    "/posts/{post_id}/edit": lambda ids: f"/posts/{ids['post']}/edit",
    "/coverage": lambda ids: "/coverage",
    "/alerts": lambda ids: "/alerts",
    "/channels": lambda ids: "/channels",
    "/channels/new": lambda ids: "/channels/new",
    "/channels/{channel_id}": lambda ids: f"/channels/{ids['channel']}",
    "/profile": lambda ids: "/profile",
    "/users": lambda ids: "/users",
    "/insights": lambda ids: "/insights",
    "/digest": lambda ids: "/digest",
    "/import": lambda ids: "/import",
    "/profile/feeds": lambda ids: "/profile/feeds",
    "/objectives/{objective_id}/slots": lambda ids: f"/objectives/{ids['objective']}/slots",
    "/approvals": lambda ids: "/approvals",
    "/audit": lambda ids: "/audit",
    "/champions": lambda ids: "/champions",
    "/guardrails": lambda ids: "/guardrails",
    "/channels/connect/mastodon": lambda ids: "/channels/connect/mastodon",
}

# Page routes that answer something other than a page of their own.
NOT_PAGES = {
    "/": "redirects to the calendar or the login page",
    "/channels/connect/{platform}": "redirects to the platform's consent page",
    "/channels/connect/{platform}/callback": "redirects to the channel or the chooser",
    "/channels/connect/mastodon/callback": "redirects to the new channel",
    "/channels/{channel_id}/reconnect": "redirects to the platform's consent page",
    # Reached only through a flow with a platform: tests/web/test_connect_browser.py
    # checks it with axe on the way.
    "/channels/connect/{platform}/choose": "needs a flow under way",
    "/digest.pdf": "a PDF",
    "/l/{code}": "a redirect to a tracked link",
    "/calendar/feeds/{token}.ics": "an iCalendar feed",
}


def _page_routes() -> set[str]:
    """GET paths of every router kept out of the API schema: the pages (and redirects)."""
    paths: set[str] = set()
    for info in pkgutil.walk_packages(app.__path__, "app."):
        router = getattr(importlib.import_module(info.name), "router", None)
        if isinstance(router, APIRouter) and not router.include_in_schema:
            paths |= {
                router.prefix + route.path
                for route in router.routes
                if isinstance(route, APIRoute) and "GET" in route.methods
            }
    return paths


def test_every_page_route_is_checked() -> None:
    routes = _page_routes()
    assert sorted(routes - set(PAGES) - set(NOT_PAGES)) == [], "add the page to PAGES"
    assert sorted((set(PAGES) | set(NOT_PAGES)) - routes) == [], "PAGES lists a gone page"


def violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page, one line each, plus elements
    that jump the keyboard order (tabindex above 0)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    found = [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}"
        for v in results.response["violations"]
    ]
    jumps = page.eval_on_selector_all(
        "[tabindex]", "els => els.filter(e => e.tabIndex > 0).map(e => e.outerHTML.slice(0, 80))"
    )
    return found + [f"positive tabindex: {html}" for html in jumps]


@pytest.mark.parametrize("screen", SCREENS)
def test_every_page_passes_axe(
    browser: Any, server: Server, ids: dict[str, str], screen: str
) -> None:
    context = browser.new_context(base_url=server.base, viewport=SCREENS[screen], locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login")
        problems = {"/login": violations(page)}
        log_in(page)
        for route, address in PAGES.items():
            if route == "/login":
                continue
            response = page.goto(address(ids))
            assert response is not None and response.status == 200, (address(ids), response)
            page.wait_for_load_state("networkidle")
            problems[address(ids)] = violations(page)
    finally:
        context.close()
    assert {path: found for path, found in problems.items() if found} == {}
