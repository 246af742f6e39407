"""Posts changed from the web pages have the same side effects as through the API,
and the calendar pages its posts instead of cutting them off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.alerts.models import Alert, AlertKind
from app.coverage.service import check
from app.db import transaction
from app.runtime import Runtime
from app.users.models import Role
from tests.helpers import API, objective, webhook_channel
from tests.web.test_pages import csrf, login, make_user


@pytest.fixture
def editor_web(client: TestClient, runtime: Runtime) -> TestClient:
    make_user(runtime, "editor@example.org", Role.editor)
    assert login(client, "editor@example.org").status_code == 303
    return client


@pytest.fixture
def woken(runtime: Runtime) -> list[int]:
    """Counts the wake-ups the embedded scheduler would receive."""
    calls: list[int] = []
    runtime.wake_dispatcher = lambda: calls.append(1)
    return calls


def uncovered_days(runtime: Runtime, objective_id: str) -> list[str]:
    with runtime.sessions() as session:
        return sorted(
            str(day)
            for day in session.scalars(
                select(Alert.day).where(
                    Alert.kind == AlertKind.objective_uncovered,
                    Alert.objective_id == objective_id,
                    Alert.resolved_at.is_(None),
                )
            )
        )


def test_a_post_made_and_cancelled_on_the_web_settles_its_alert_at_once(
    editor_web: TestClient, admin: dict[str, str], runtime: Runtime, woken: list[int]
) -> None:
    events = objective(editor_web, admin, name="Events")
    hook = webhook_channel(editor_web, admin)
    with transaction(runtime.sessions) as session:
        check(session, now=runtime.clock.now(), lookahead_days=3)
    assert uncovered_days(runtime, events["id"]) == ["2026-11-23", "2026-11-24", "2026-11-25"]

    form = {
        "csrf_token": csrf(editor_web, "/posts/new"),
        "text": "Open evening",
        "objective_ids": events["id"],
        "channel_ids": hook["id"],
        "day": "2026-11-24",
        "time": "18:00",
        "action": "schedule",
    }
    made = editor_web.post("/posts/new", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    # No periodic check ran: the post's own request resolved the day's alert.
    assert uncovered_days(runtime, events["id"]) == ["2026-11-23", "2026-11-25"]
    assert woken == [1]

    post_id = made.headers["location"].split("/")[2].split("?")[0]
    moved = editor_web.post(
        f"/posts/{post_id}/edit", data={**form, "day": "2026-11-25"}, follow_redirects=False
    )
    assert moved.status_code == 303, moved.text
    assert uncovered_days(runtime, events["id"]) == ["2026-11-23", "2026-11-24"]
    assert woken == [1, 1]

    token = csrf(editor_web, f"/posts/{post_id}")
    cancelled = editor_web.post(
        f"/posts/{post_id}/cancel", data={"csrf_token": token}, follow_redirects=False
    )
    assert cancelled.status_code == 303, cancelled.text
    assert uncovered_days(runtime, events["id"]) == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert woken == [1, 1, 1]


def _chips(html: str) -> int:
    return len(re.findall(r'<a class="chip ', html))


def test_a_month_with_more_posts_than_a_page_says_so_and_links_to_the_rest(
    editor_web: TestClient, admin: dict[str, str]
) -> None:
    events = objective(editor_web, admin, name="Events")
    hook = webhook_channel(editor_web, admin)
    one: dict[str, Any] = {
        "text": "Busy",
        "objective_ids": [events["id"]],
        "channel_ids": [hook["id"]],
        "scheduled_at": "2026-11-24T10:00:00Z",
    }
    made = editor_web.post(f"{API}/posts/batch", json={"posts": [one] * 1000}, headers=admin)
    assert made.status_code == 201, made.text
    last = {**one, "text": "The last one", "scheduled_at": "2026-11-30T10:00:00Z"}
    assert editor_web.post(f"{API}/posts", json=last, headers=admin).status_code == 201

    page = editor_web.get("/calendar?view=month&date=2026-11-24")
    assert page.status_code == 200
    assert _chips(page.text) == 1000
    assert "Showing posts 1 to 1,000 of 1,001 in this month" in page.text
    more = re.search(r'<a href="([^"]+)" rel="next">More posts \(1 later\)</a>', page.text)
    assert more, page.text
    rest = editor_web.get(more.group(1).replace("&amp;", "&"))
    assert rest.status_code == 200
    assert _chips(rest.text) == 1 and "The last one" in rest.text
    assert "Showing posts 1,001 to 1,001 of 1,001" in rest.text
    assert 'rel="prev">Earlier posts</a>' in rest.text

    # A month that fits shows no notice.
    quiet = editor_web.get("/calendar?view=month&date=2026-12-10")
    assert quiet.status_code == 200 and "Showing posts" not in quiet.text
