"""Calendar feeds: POST/GET/DELETE /feeds and the secret .ics address."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from app.runtime import Runtime
from app.users.models import Role
from tests.conftest import NOW, make_token
from tests.helpers import API, objective, post, set_deliveries, webhook_channel


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "support": objective(client, admin)["id"],
        "events": objective(client, admin, name="Events")["id"],
        "hook": webhook_channel(client, admin)["id"],
    }


def _post(
    client: TestClient, headers: dict[str, str], world: dict[str, Any], when: datetime, **f: Any
) -> dict[str, Any]:
    return post(
        client,
        headers,
        text=f.pop("text", "Open day on Saturday\nCome along"),
        objective_ids=f.pop("objective_ids", [world["support"], world["events"]]),
        channel_ids=[world["hook"]],
        scheduled_at=when.isoformat(),
        **f,
    )


def _feed(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(f"{API}/feeds", headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _fetch(client: TestClient, url: str) -> Any:
    return client.get(url.removeprefix("http://cadence.test"))


def test_a_feed_lists_the_posts_one_may_see_as_events_in_utc(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    soon = NOW + timedelta(days=2, hours=3, minutes=30)
    shown = _post(client, editor, world, soon)
    titled = _post(client, editor, world, NOW + timedelta(days=300), title="Launch")
    published = _post(client, editor, world, NOW + timedelta(days=1))
    set_deliveries(runtime, {published["deliveries"][0]["id"]: "published"})
    _post(client, editor, world, NOW + timedelta(days=400))  # past the year ahead
    cancelled = _post(client, editor, world, NOW + timedelta(days=3))
    assert client.delete(f"{API}/posts/{cancelled['id']}", headers=editor).status_code == 200
    post(client, editor, text="A draft", status="draft")

    feed = _feed(client, editor)
    assert feed["url"].startswith("http://cadence.test/calendar/feeds/calf_")
    assert feed["url"].endswith(".ics")
    response = _fetch(client, feed["url"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["version"]) == "2.0" and "PRODID" in calendar
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.content
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"post-{p['id']}@cadence.test" for p in (shown, titled, published)}

    event = events[f"post-{shown['id']}@cadence.test"]
    start = event.decoded("dtstart")
    assert start == soon and start.utcoffset() == timedelta(0)
    assert b"DTSTART:20261125T123000Z" in response.content
    assert event.decoded("dtstamp").tzinfo is not None
    assert str(event["summary"]) == "Open day on Saturday"
    assert sorted(str(c) for c in event["categories"].cats) == [
        "Events",
        "Support and information",
    ]
    description = str(event["description"])
    assert "Channels: Intranet hook" in description and "Status: scheduled" in description
    assert f"http://cadence.test/posts/{shown['id']}" in description
    assert str(events[f"post-{titled['id']}@cadence.test"]["summary"]) == "Launch"
    assert "Status: published" in str(events[f"post-{published['id']}@cadence.test"]["description"])

    # The same posts are the same events the next time a calendar app asks.
    again = Calendar.from_ical(_fetch(client, feed["url"]).content)
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == set(events)


def test_feeds_are_listed_revoked_and_private_to_their_owner(
    client: TestClient, editor: dict[str, str], viewer: dict[str, str], runtime: Runtime
) -> None:
    mine = _feed(client, editor)
    theirs = _feed(client, viewer)
    listed = client.get(f"{API}/feeds", headers=editor).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == mine["id"]
    assert "url" not in listed["items"][0]

    # Another person's feed is none of your business: 404, and it keeps working.
    response = client.delete(f"{API}/feeds/{theirs['id']}", headers=editor)
    assert response.status_code == 404
    assert _fetch(client, theirs["url"]).status_code == 200

    assert client.delete(f"{API}/feeds/{mine['id']}", headers=editor).status_code == 204
    assert _fetch(client, mine["url"]).status_code == 404
    assert client.get(f"{API}/feeds", headers=editor).json()["total"] == 0
    assert client.get("/calendar/feeds/calf_made-up.ics").status_code == 404
    assert client.get("/calendar/feeds/nothing.ics").status_code == 404


def test_a_disabled_persons_feed_stops(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    headers = {"Authorization": f"Bearer {make_token(runtime, Role.editor, 'leaver@example.org')}"}
    feed = _feed(client, headers)
    assert _fetch(client, feed["url"]).status_code == 200
    users = client.get(f"{API}/users", headers=admin).json()["items"]
    leaver = next(u for u in users if u["email"] == "leaver@example.org")
    response = client.patch(f"{API}/users/{leaver['id']}", json={"active": False}, headers=admin)
    assert response.status_code == 200, response.text
    assert _fetch(client, feed["url"]).status_code == 404
