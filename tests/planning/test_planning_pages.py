"""Planning on the web pages: the pause switch on every page (for editors; viewers see
the state), and blackout days on the calendar."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.runtime import Runtime
from app.users.models import Role
from tests.helpers import API, objective, webhook_channel
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


def test_an_uncovered_day_is_filled_with_one_click(
    client: TestClient, runtime: Runtime, admin: dict[str, str], editor: dict[str, str]
) -> None:
    hook = webhook_channel(client, admin)["id"]
    obj = objective(client, admin, autofill="suggest", autofill_ahead_days=2)["id"]
    slot = [{"weekday": 1, "time": "10:00", "channel_ids": [hook]}]
    client.put(f"{API}/objectives/{obj}/slots", json=slot, headers=editor)
    body = {"text": "Evergreen tip", "objective_ids": [obj], "channel_ids": [hook]}
    client.post(f"{API}/posts", json={**body, "evergreen": True}, headers=editor)
    opened = client.post(f"{API}/coverage/check", headers=editor).json()["opened"]
    tomorrow = next(a for a in opened if a["day"] == "2026-11-24")
    make_user(runtime, "web-editor@example.org", Role.editor)
    assert login(client, "web-editor@example.org").status_code == 303
    page = client.get("/alerts").text
    assert page.count("Fill with “Evergreen tip” at 10:00") == 1  # only Tuesday has a slot
    token = csrf(client, "/alerts")
    done = client.post(
        f"/alerts/{tomorrow['id']}/fill", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/posts/")
    after = client.get("/alerts").text
    assert "Fill with" not in after
    assert "filled from the evergreen library with &#39;Evergreen tip&#39;" in after


def test_the_weekly_slot_grid_edits_an_objectives_slots(
    client: TestClient, runtime: Runtime, admin: dict[str, str], editor: dict[str, str]
) -> None:
    hook = webhook_channel(client, admin)["id"]
    hook2 = webhook_channel(client, admin, name="Second hook")["id"]
    obj = objective(client, admin)["id"]
    make_user(runtime, "web-editor@example.org", Role.editor)
    assert login(client, "web-editor@example.org").status_code == 303
    assert f'href="/objectives/{obj}/slots"' in client.get("/coverage").text
    page = client.get(f"/objectives/{obj}/slots")
    assert page.status_code == 200 and 'id="times-6"' in page.text
    token = csrf(client, f"/objectives/{obj}/slots")
    bad = client.post(
        f"/objectives/{obj}/slots",
        data={"csrf_token": token, "times-0": "09:30, 25:00", "times-2": "10:00,10:00"},
    )
    assert bad.status_code == 422
    assert "&#39;25:00&#39; is not a time" in bad.text and "the same weekday and time" in bad.text
    assert 'value="09:30, 25:00"' in bad.text  # what was typed is kept
    saved = client.post(
        f"/objectives/{obj}/slots",
        data={
            "csrf_token": token,
            "times-0": "09:30, 17:00",
            "channels-0": [hook, hook2],
            "times-4": "12:00",
            "channels-4": hook,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    got = client.get(f"{API}/objectives/{obj}/slots", headers=editor).json()
    assert [(s["weekday"], s["time"], sorted(s["channel_ids"])) for s in got] == [
        (0, "09:30", sorted([hook, hook2])),
        (0, "17:00", sorted([hook, hook2])),
        (4, "12:00", [hook]),
    ]
    assert 'value="09:30, 17:00"' in client.get(f"/objectives/{obj}/slots").text
    assert client.get("/objectives/nope/slots").status_code == 404


def test_the_alerts_page_groups_as_the_messages_do(
    client: TestClient, runtime: Runtime, admin: dict[str, str], editor: dict[str, str]
) -> None:
    objective(client, admin, name="Zebra crossings")
    objective(client, admin, name="Advice")
    client.post(f"{API}/coverage/check", headers=editor)  # 09:00: nothing urgent yet
    make_user(runtime, "viewer@example.org", Role.viewer)
    assert login(client, "viewer@example.org").status_code == 303
    page = client.get("/alerts").text
    now_part = page[page.index("Needs action now") : page.index("Not covered yet (in the")]
    later_part = page[page.index("Not covered yet (in the") : page.index("Acknowledged")]
    assert "alert-group" not in now_part
    assert later_part.index(">Advice</h3>") < later_part.index(">Zebra crossings</h3>")
    assert later_part.count('class="alert open"') == 14
    runtime.clock.set(runtime.clock.now().replace(hour=12, minute=5))  # type: ignore[attr-defined]
    page = client.get("/alerts").text
    now_part = page[page.index("Needs action now") : page.index("Not covered yet (in the")]
    assert now_part.count('class="alert open"') == 2  # today, for each objective
