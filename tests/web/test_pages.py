"""The web pages' rules without a browser: sessions, CSRF, login throttling, roles,
and the compose and channel forms' server side (through the app, frozen clock)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db import transaction
from app.main import create_app
from app.runtime import Runtime
from app.users.models import Role
from app.users.passwords import set_password
from app.users.service import get_or_create_user
from connectors.registry import PLATFORMS
from tests.conftest import NOW
from tests.helpers import API, objective, webhook_channel, x_channel

PASSWORD = "correct horse battery"


def make_user(runtime: Runtime, email: str, role: Role, password: str = PASSWORD) -> None:
    with transaction(runtime.sessions) as session:
        user = get_or_create_user(session, email=email, role=role, now=NOW)
        set_password(session, user=user, password=password)


def csrf(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    token = csrf(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, **extra},
        follow_redirects=False,
    )


def errors_of(html: str, field: str) -> str:
    found = re.search(rf'<ul class="field-errors" id="{field}-error">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


@pytest.fixture
def editor_web(client: TestClient, runtime: Runtime) -> TestClient:
    make_user(runtime, "editor@example.org", Role.editor)
    assert login(client, "editor@example.org").status_code == 303
    return client


# -- login, sessions and CSRF --------------------------------------------------------


def test_login_sets_a_signed_http_only_lax_cookie_and_logout_ends_it(
    client: TestClient, runtime: Runtime
) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    assert client.get("/calendar", follow_redirects=False).headers["location"] == (
        "/login?next=/calendar"
    )
    answer = login(client, "ANN@example.org ")  # e-mails are matched as stored
    assert answer.status_code == 303 and answer.headers["location"] == "/calendar"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client.get("/calendar").status_code == 200

    # A tampered cookie is no session at all.
    value = client.cookies["cadence_session"]
    tampered = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    with TestClient(create_app(runtime), cookies={"cadence_session": tampered}) as other:
        assert other.get("/calendar", follow_redirects=False).status_code == 303

    token = csrf(client, "/calendar")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/calendar", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_over_https(runtime: Runtime) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    with TestClient(create_app(runtime), base_url="https://cadence.test") as client:
        answer = login(client, "ann@example.org")
        assert answer.status_code == 303
        assert "Secure" in answer.headers["set-cookie"]


def test_every_post_needs_the_csrf_token(editor_web: TestClient, runtime: Runtime) -> None:
    for path in ("/posts/new", "/logout", "/profile", "/alerts/x/acknowledge"):
        assert editor_web.post(path, data={"text": "hi"}).status_code == 403, path
        assert editor_web.post(path, data={"csrf_token": "nope"}).status_code == 403, path
    assert editor_web.post("/web/validate", json={"text": "hi"}).status_code == 403
    assert editor_web.post("/web/media", files={"file": ("a.png", b"x")}).status_code == 403
    # The login form is protected too: a visitor without a session has no token.
    with TestClient(create_app(runtime)) as fresh:
        refused = fresh.post("/login", data={"email": "editor@example.org", "password": PASSWORD})
        assert refused.status_code == 403


def test_login_refuses_a_next_address_off_the_site(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        answer = login(client, "ann@example.org", next=target)
        assert answer.headers["location"] == "/calendar", target
    assert login(client, "ann@example.org", next="/coverage").headers["location"] == "/coverage"


def test_failed_logins_from_one_address_wait_longer_and_longer(
    client: TestClient, runtime: Runtime, clock: FrozenClock
) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    for _ in range(5):
        assert login(client, "ann@example.org", "wrong password").status_code == 401
    waits = []
    for _ in range(4):
        refused = login(client, "ann@example.org")  # even the right password waits
        assert refused.status_code == 429
        assert "Too many failed attempts" in refused.text
        waits.append(int(refused.headers["retry-after"]))
        clock.advance(seconds=waits[-1])
        assert login(client, "ann@example.org", "wrong password").status_code == 401
    assert waits == sorted(waits) and waits[-1] > waits[0]  # the delay grows
    for _ in range(12):  # hammering: the delay reaches its cap of 15 minutes
        refused = login(client, "ann@example.org")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "900"
    assert "15 minutes" in refused.text
    clock.advance(minutes=14)
    assert login(client, "ann@example.org").status_code == 429
    clock.advance(minutes=16)
    assert login(client, "ann@example.org").status_code == 303
    # A success forgets the failures: the next wrong password is not delayed.
    assert login(client, "ann@example.org", "wrong password").status_code == 401


def test_a_new_password_ends_the_other_sessions(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "ann@example.org", Role.editor)
    assert login(client, "ann@example.org").status_code == 303
    with TestClient(create_app(runtime)) as other:
        assert login(other, "ann@example.org").status_code == 303
        token = csrf(client, "/profile")
        changed = client.post(
            "/profile",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "an even better passphrase",
                "confirm_password": "an even better passphrase",
            },
            follow_redirects=False,
        )
        assert changed.status_code == 303
        assert client.get("/calendar").status_code == 200  # this session goes on
        assert other.get("/calendar", follow_redirects=False).status_code == 303
        assert login(other, "ann@example.org", "an even better passphrase").status_code == 303


def test_profile_sets_the_time_zone_and_refuses_a_bad_one(editor_web: TestClient) -> None:
    token = csrf(editor_web, "/profile")
    bad = editor_web.post("/profile", data={"csrf_token": token, "timezone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert "unknown IANA time zone" in errors_of(bad.text, "timezone")
    ok = editor_web.post("/profile", data={"csrf_token": token, "timezone": "America/New_York"})
    assert ok.status_code == 200 and "America/New_York" in ok.text
    short = editor_web.post(
        "/profile",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm_password": "short",
        },
    )
    assert short.status_code == 422 and "at least 12" in errors_of(short.text, "new_password")


def test_roles_decide_what_a_person_may_open(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "viewer@example.org", Role.viewer)
    assert login(client, "viewer@example.org").status_code == 303
    for path in ("/calendar", "/coverage", "/alerts", "/channels", "/profile"):
        assert client.get(path).status_code == 200, path
    for path in ("/posts/new", "/channels/new", "/users"):
        assert client.get(path).status_code == 403, path
    assert "New post" not in client.get("/calendar").text


# -- compose -------------------------------------------------------------------------


@pytest.fixture
def plan(client: TestClient, admin: dict[str, str]) -> Iterator[dict[str, Any]]:
    yield {
        "objective": objective(client, admin),
        "hook": webhook_channel(client, admin),
        "x": x_channel(client, admin),
    }


def test_the_date_and_time_are_read_in_the_persons_zone(
    editor_web: TestClient, plan: dict[str, Any], admin: dict[str, str]
) -> None:
    token = csrf(editor_web, "/posts/new")
    form = {
        "csrf_token": token,
        "text": "Open day",
        "objective_ids": plan["objective"]["id"],
        "channel_ids": plan["hook"]["id"],
        "day": "2026-11-25",
        "time": "09:30",
        "action": "schedule",
    }
    made = editor_web.post("/posts/new", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    post_id = made.headers["location"].split("/")[2].split("?")[0]
    stored = editor_web.get(f"{API}/posts/{post_id}", headers=admin).json()
    # CADENCE_TIMEZONE is Europe/London in the tests: GMT in November.
    assert stored["scheduled_at"] == "2026-11-25T09:30:00Z"

    # Editing the text only leaves the time alone.
    edit = editor_web.post(f"/posts/{post_id}/edit", data={**form, "text": "Open day, all welcome"})
    assert edit.status_code == 200
    again = editor_web.get(f"{API}/posts/{post_id}", headers=admin).json()
    assert again["text"] == "Open day, all welcome"
    assert again["scheduled_at"] == "2026-11-25T09:30:00Z"


def test_a_wall_time_the_clocks_skip_is_refused(
    editor_web: TestClient, plan: dict[str, Any]
) -> None:
    token = csrf(editor_web, "/posts/new")
    answer = editor_web.post(
        "/posts/new",
        data={
            "csrf_token": token,
            "text": "Clocks go forward",
            "objective_ids": plan["objective"]["id"],
            "channel_ids": plan["hook"]["id"],
            "day": "2027-03-28",
            "time": "01:30",
        },
    )
    assert answer.status_code == 422
    assert "does not exist" in errors_of(answer.text, "time")


def test_platform_problems_are_shown_next_to_the_text_and_nothing_is_stored(
    editor_web: TestClient, plan: dict[str, Any], admin: dict[str, str]
) -> None:
    token = csrf(editor_web, "/posts/new")
    answer = editor_web.post(
        "/posts/new",
        data={
            "csrf_token": token,
            "text": "é" * 141,  # X weighs most non-Latin characters 2... but é counts 1
            "objective_ids": plan["objective"]["id"],
            "channel_ids": [plan["x"]["id"], plan["hook"]["id"]],
            "day": "2026-11-25",
            "time": "10:00",
            "link": "not a link",
        },
    )
    assert answer.status_code == 422
    assert "http" in errors_of(answer.text, "link")
    assert editor_web.get(f"{API}/posts", headers=admin).json()["total"] == 0

    too_long = editor_web.post(
        "/posts/new",
        data={
            "csrf_token": token,
            "text": "🙂" * 141,  # emoji weigh 2: 282 of 280
            "objective_ids": plan["objective"]["id"],
            "channel_ids": [plan["x"]["id"], plan["hook"]["id"]],
            "day": "2026-11-25",
            "time": "10:00",
        },
    )
    assert too_long.status_code == 422
    assert "282 of 280 characters as X counts them" in errors_of(too_long.text, "text")
    assert editor_web.get(f"{API}/posts", headers=admin).json()["total"] == 0


def test_the_live_check_runs_each_platforms_own_rules(
    editor_web: TestClient, plan: dict[str, Any]
) -> None:
    token = csrf(editor_web, "/posts/new")
    answer = editor_web.post(
        "/web/validate",
        json={
            "text": "🙂" * 141,
            "channel_ids": [plan["x"]["id"], plan["hook"]["id"]],
            "internal_only": True,
        },
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200
    x, hook = answer.json()["channels"]
    assert (x["count"], x["limit"], x["over"]) == (282, 280, True)
    assert [p["message"] for p in x["problems"]] == [
        "282 of 280 characters as X counts them",
        "channel 'Main X account' is external and the post is internal_only",
    ]
    assert (hook["count"], hook["limit"], hook["problems"]) == (141, None, [])


def test_alert_announcements_are_not_posts_to_open(
    editor_web: TestClient, runtime: Runtime
) -> None:
    from app.posts.models import Post, PostKind, PostState

    with transaction(runtime.sessions) as session:
        session.add(
            Post(
                id="a" * 32,
                text="alert",
                internal_only=True,
                state=PostState.scheduled,
                kind=PostKind.alert,
                scheduled_at=NOW + timedelta(hours=1),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    assert editor_web.get(f"/posts/{'a' * 32}").status_code == 404
    assert f"/posts/{'a' * 32}" not in editor_web.get("/calendar").text


# -- channels ------------------------------------------------------------------------


def test_a_channel_form_comes_from_the_platform_schema_and_keeps_secrets(
    client: TestClient, runtime: Runtime
) -> None:
    make_user(runtime, "admin@example.org", Role.admin)
    assert login(client, "admin@example.org").status_code == 303
    form = client.get("/channels/new?platform=email").text
    for name in ("config.host", "config.port", "config.to_addresses", "credentials.password"):
        assert f'name="{name}"' in form, name
    assert re.search(r'type="password" id="credentials-password"', form)
    token = csrf(client, "/channels/new")
    bad = client.post(
        "/channels/new",
        data={
            "csrf_token": token,
            "platform": "webhook",
            "name": "Hook",
            "audience": "internal",
            "config.url": "ftp://nope",
            "credentials.signing_secret": "s3cret-signing",
        },
    )
    assert bad.status_code == 422
    assert "http" in errors_of(bad.text, "config-url")
    assert "s3cret-signing" not in bad.text
    made = client.post(
        "/channels/new",
        data={
            "csrf_token": token,
            "platform": "webhook",
            "name": "Hook",
            "audience": "internal",
            "config.url": "https://intranet.example.org/hook",
            "credentials.signing_secret": "s3cret-signing",
            "receives_alerts": "on",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"]).text
    assert "signing_secret" in page and "s3cret-signing" not in page
    assert "https://intranet.example.org/hook" in page


def test_cli_sets_a_password(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import main
    from app.config import get_settings
    from app.users.passwords import authenticate

    settings = runtime.settings
    monkeypatch.setenv("CADENCE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CADENCE_SECRET_KEY", "test-secret-key-of-at-least-32-bytes")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        missing = runner.invoke(
            main,
            ["user", "set-password", "--email", "new@example.org", "--password-stdin"],
            input="long enough password\n",
        )
        assert missing.exit_code != 0 and "give --role" in missing.output
        short = runner.invoke(
            main,
            ["user", "set-password", "--email", "new@example.org", "--role", "editor"],
            input="short\nshort\n",
        )
        assert short.exit_code != 0 and "at least 12" in short.output
        ok = runner.invoke(
            main,
            ["user", "set-password", "--email", "new@example.org", "--role", "editor"],
            input="long enough password\nlong enough password\n",
        )
        assert ok.exit_code == 0, ok.output
        assert "password set for new@example.org (editor)" in ok.output
    finally:
        get_settings.cache_clear()
    with transaction(runtime.sessions) as session:
        assert authenticate(session, email="new@example.org", password="long enough password")
        assert not authenticate(session, email="new@example.org", password="wrong")


def test_a_channel_page_edits_replaces_secrets_disables_and_tests(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    make_user(runtime, "admin@example.org", Role.admin)
    assert login(client, "admin@example.org").status_code == 303
    hook = webhook_channel(client, admin, url="http://127.0.0.1:9/hook")
    page = f"/channels/{hook['id']}"
    token = csrf(client, page)
    assert "hook-signing-secret" not in client.get(page).text

    # A new URL without the secret would send the stored secret there: refused.
    moved = client.post(
        page,
        data={
            "csrf_token": token,
            "name": "Intranet hook (new)",
            "config.url": "http://127.0.0.1:9/other",
            "credentials.signing_secret": "",
        },
    )
    assert moved.status_code == 422
    assert "enter the credentials again" in errors_of(moved.text, "credentials")
    assert client.get(f"{API}/channels/{hook['id']}", headers=admin).json()["name"] == hook["name"]
    saved = client.post(
        page,
        data={
            "csrf_token": token,
            "name": "Intranet hook (new)",
            "config.url": "http://127.0.0.1:9/other",
            "credentials.signing_secret": "new-signing-secret",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    renamed = client.post(
        page,
        data={
            "csrf_token": token,
            "name": "Intranet hook (newer)",
            "config.url": "http://127.0.0.1:9/other",
            "credentials.signing_secret": "",  # empty: the stored secret is kept
        },
        follow_redirects=False,
    )
    assert renamed.status_code == 303, renamed.text
    out = client.get(f"{API}/channels/{hook['id']}", headers=admin).json()
    assert out["name"] == "Intranet hook (newer)"
    assert out["config"]["url"] == "http://127.0.0.1:9/other"
    assert out["credential_fields"] == ["signing_secret"]

    client.post(f"{page}/alerts", data={"csrf_token": token, "receives_alerts": "on"})
    client.post(f"{page}/status", data={"csrf_token": token, "status": "disabled"})
    out = client.get(f"{API}/channels/{hook['id']}", headers=admin).json()
    assert (out["receives_alerts"], out["status"]) == (True, "disabled")
    client.post(f"{page}/status", data={"csrf_token": token, "status": "active"})
    assert client.get(f"{API}/channels/{hook['id']}", headers=admin).json()["status"] == "active"

    tested = client.post(f"{page}/test", data={"csrf_token": token})
    assert tested.status_code == 200
    assert "Connection failed" in tested.text  # nothing listens on port 9
    assert "hook-signing-secret" not in tested.text


@pytest.mark.parametrize(
    "platform", [name for name, p in PLATFORMS.items() if p.limits.text is not None]
)
def test_each_counter_is_over_exactly_when_the_platform_refuses_the_length(
    platform: str, tmp_path: Any
) -> None:
    from app.channels.models import Channel
    from app.web.compose import check_channels

    limit = PLATFORMS[platform].limits.text
    assert limit is not None
    channel = Channel(id="c", name="C", platform=platform, audience="external")
    # Two bytes each where the limit is in bytes (YouTube's description).
    unit = "é" if PLATFORMS[platform].limits.text_unit == "bytes" else "a"
    for text, link in (
        (unit * (limit // len(unit.encode())), None),
        (unit * (limit // len(unit.encode()) + 1), None),
        ("a" * (limit - 20), "https://example.org/a-long-path"),
    ):
        [result] = check_channels(
            [channel],
            [],
            text=text,
            title="A title",
            link=link,
            internal_only=False,
            media_dir=tmp_path,
            base_url="http://cadence.test",
        )
        length_problems = [
            p
            for p in result["problems"]
            if p["field"] == "text" and str(result["limit"]) in p["message"]
        ]
        assert result["over"] == bool(length_problems), (platform, result)
        if result["over"]:
            assert str(result["count"]) in length_problems[0]["message"]


def test_the_compose_form_and_live_check_refuse_a_text_over_10000_characters(
    editor_web: TestClient, plan: dict[str, Any], admin: dict[str, str]
) -> None:
    token = csrf(editor_web, "/posts/new")
    answer = editor_web.post(
        "/posts/new",
        data={
            "csrf_token": token,
            "text": "a" * 10_001,
            "objective_ids": plan["objective"]["id"],
            "channel_ids": plan["hook"]["id"],
            "day": "2026-11-25",
            "time": "10:00",
        },
    )
    assert answer.status_code == 422
    assert "10000 characters" in errors_of(answer.text, "text")
    assert editor_web.get(f"{API}/posts", headers=admin).json()["total"] == 0

    check = editor_web.post(
        "/web/validate",
        json={"text": "a" * 10_001, "channel_ids": [plan["x"]["id"]]},
        headers={"X-CSRF-Token": token},
    )
    assert check.status_code == 422
    assert [p["loc"] for p in check.json()["detail"]] == [["body", "text"]]


@pytest.mark.parametrize(
    "path",
    [
        "/calendar?date=9999-12-31",
        "/calendar?date=0001-01-01",
        "/calendar?view=week&date=9999-12-31",
        "/calendar?view=week&day=0001-01-01",
        "/coverage?start=0001-01-01",
        "/coverage?start=9999-12-31",
    ],
)
def test_pages_at_the_ends_of_the_calendar_are_shown(editor_web: TestClient, path: str) -> None:
    # Days past year 9999 raised OverflowError (a 500); they are kept within the years.
    assert editor_web.get(path).status_code == 200
