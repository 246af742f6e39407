"""Planning on the web pages: the pause switch on every page (for editors; viewers see
the state), and blackout days on the calendar."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.runtime import Runtime
from app.users.models import Role
from tests.helpers import API
from tests.web.test_pages import csrf, login, make_user


def test_editors_pause_and_resume_from_any_page_and_everyone_sees_who_and_why(
    client: TestClient, runtime: Runtime
) -> None:
    make_user(runtime, "editor@example.org", Role.editor)
    make_user(runtime, "viewer@example.org", Role.viewer)
    assert login(client, "editor@example.org").status_code == 303
    calendar = client.get("/calendar").text
    assert "Pause publishing" in calendar and 'action="/pause"' in calendar
    token = csrf(client, "/alerts")
    refused = client.post(
        "/pause", data={"csrf_token": token, "scope": "all", "reason": " "}, follow_redirects=False
    )
    assert refused.status_code == 422
    done = client.post(
        "/pause",
        data={"csrf_token": token, "scope": "external", "reason": "Mourning", "back": "/alerts"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/alerts?")
    for path in ("/calendar", "/coverage", "/alerts", "/channels", "/profile"):
        page = client.get(path).text
        assert "Publishing is paused: posts to external channels" in page, path
        assert "By editor@example.org" in page and "Mourning" in page, path
        assert "Resume publishing" in page, path
    off_site = client.post(
        "/pause/resume",
        data={"csrf_token": token, "back": "//evil.example/"},
        follow_redirects=False,
    )
    assert off_site.headers["location"].startswith("/calendar?")
    assert "Publishing is paused" not in client.get("/calendar").text
    client.post("/pause", data={"csrf_token": token, "scope": "all", "reason": "Outage"})
    client.post("/logout", data={"csrf_token": csrf(client, "/calendar")})
    assert login(client, "viewer@example.org").status_code == 303
    seen = client.get("/calendar").text
    assert "Publishing is paused: every post" in seen and "Outage" in seen
    assert "Resume publishing" not in seen and "Pause now" not in seen
    token = csrf(client, "/calendar")
    assert client.post("/pause/resume", data={"csrf_token": token}).status_code == 403


def test_blackout_days_are_shown_on_the_calendar(
    client: TestClient, runtime: Runtime, editor: dict[str, str]
) -> None:
    made = client.post(
        f"{API}/blackouts",
        json={"date_from": "2026-11-25", "date_to": "2026-11-26", "reason": "Public holiday"},
        headers=editor,
    )
    assert made.status_code == 201
    make_user(runtime, "viewer@example.org", Role.viewer)
    assert login(client, "viewer@example.org").status_code == 303
    page = client.get("/calendar", params={"date": "2026-11-25"}).text
    assert page.count("Blackout: every objective: Public holiday") == 2
