"""Sessions end on the server's word (logout, new password, deactivation, idle time),
and login throttling that a stranger cannot turn against someone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.clock import FrozenClock
from app.config import Settings
from app.db import transaction
from app.main import create_app
from app.runtime import Runtime
from app.users import throttle
from app.users.models import LoginAttempt, Role, User
from app.users.passwords import authenticate
from app.users.service import change_user
from tests.web.test_pages import PASSWORD, csrf, login, make_user

STRANGER = ("203.0.113.66", 50000)
PROXY = ("10.0.0.2", 50000)


def _failures(runtime: Runtime, email: str) -> dict[str, int]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(LoginAttempt.address, LoginAttempt.failures).where(LoginAttempt.email == email)
        )
        return {address: failures for address, failures in rows}


def test_a_copied_cookie_stops_working_at_logout(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "ann@example.org", Role.editor)
    assert login(client, "ann@example.org").status_code == 303
    copied = client.cookies["cadence_session"]
    token = csrf(client, "/calendar")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 200
    with TestClient(create_app(runtime), cookies={"cadence_session": copied}) as thief:
        answer = thief.get("/calendar", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert thief.post("/web/validate", json={"text": "hi"}).status_code in (401, 403)
    # Logging in again works, with a new session.
    assert login(client, "ann@example.org").status_code == 303
    assert client.get("/calendar").status_code == 200


def test_a_session_ends_after_the_idle_time_and_lives_while_used(
    client: TestClient, runtime: Runtime, clock: FrozenClock
) -> None:
    assert runtime.settings.session_idle_minutes == 720  # the default
    make_user(runtime, "ann@example.org", Role.viewer)
    assert login(client, "ann@example.org").status_code == 303
    for _ in range(4):  # used every 11 hours: 44 hours in all, never idle for 12
        clock.advance(hours=11)
        assert client.get("/calendar", follow_redirects=False).status_code == 200
    clock.advance(hours=12, seconds=1)
    answer = client.get("/calendar", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/calendar"


def test_the_idle_time_is_a_setting(settings: Settings, clock: FrozenClock) -> None:
    short = settings.model_copy(update={"session_idle_minutes": 30})
    runtime = Runtime.build(short, clock=clock)
    try:
        make_user(runtime, "ann@example.org", Role.viewer)
        with TestClient(create_app(runtime)) as client:
            assert login(client, "ann@example.org").status_code == 303
            clock.advance(minutes=29)
            assert client.get("/calendar", follow_redirects=False).status_code == 200
            clock.advance(minutes=31)
            assert client.get("/calendar", follow_redirects=False).status_code == 303
    finally:
        runtime.close()


def test_a_session_ends_after_seven_days_however_busy(
    client: TestClient, runtime: Runtime, clock: FrozenClock
) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    assert login(client, "ann@example.org").status_code == 303
    for _ in range(6 * 24 // 6):
        clock.advance(hours=6)
        assert client.get("/calendar", follow_redirects=False).status_code == 200
    clock.advance(days=1)
    assert client.get("/calendar", follow_redirects=False).status_code == 303


def test_deactivation_ends_sessions_and_refuses_logins(
    client: TestClient, runtime: Runtime, clock: FrozenClock
) -> None:
    make_user(runtime, "ann@example.org", Role.editor)
    assert login(client, "ann@example.org").status_code == 303
    with transaction(runtime.sessions) as session:
        ann = session.scalars(select(User).where(User.email == "ann@example.org")).one()
        change_user(session, user=ann, now=clock.now(), active=False)
    assert client.get("/calendar", follow_redirects=False).status_code == 303
    assert login(client, "ann@example.org").status_code == 401


def test_a_stranger_elsewhere_cannot_lock_the_person_out(
    client: TestClient, runtime: Runtime
) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    with TestClient(create_app(runtime), client=STRANGER) as stranger:
        for _ in range(20):
            assert login(stranger, "ann@example.org", "wrong password").status_code in (401, 429)
        assert login(stranger, "ann@example.org").status_code == 429
    assert _failures(runtime, "ann@example.org") == {STRANGER[0]: 21}
    assert login(client, "ann@example.org").status_code == 303


def test_x_forwarded_for_is_believed_only_from_an_allowed_proxy(
    settings: Settings, clock: FrozenClock
) -> None:
    for allowed, expected in (("", PROXY[0]), ("10.0.0.0/8", "198.51.100.7")):
        runtime = Runtime.build(
            settings.model_copy(update={"forwarded_allow_ips": allowed}), clock=clock
        )
        try:
            make_user(runtime, "ann@example.org", Role.viewer)
            with TestClient(
                create_app(runtime),
                client=PROXY,
                headers={"X-Forwarded-For": "198.51.100.7"},
            ) as via_proxy:
                assert login(via_proxy, "ann@example.org", "wrong password").status_code == 401
            assert list(_failures(runtime, "ann@example.org")) == [expected], allowed
        finally:
            with transaction(runtime.sessions) as session:
                session.execute(LoginAttempt.__table__.delete())
            runtime.close()


def test_the_default_trusts_a_proxy_on_this_machine_only() -> None:
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert default.forwarded_allow_list == ["127.0.0.1", "::1"]
    with pytest.raises(ValueError, match="neither an IP address nor a network"):
        Settings(_env_file=None, forwarded_allow_ips="10.0.0.0/8,proxy.local")  # type: ignore[call-arg]


def _guess(runtime: Runtime, password: str) -> str:
    """One login attempt, as the login page makes it, in its own transaction."""
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        if throttle.count_attempt(session, email="ann@example.org", address="192.0.2.1", now=now):
            return "throttled"
        user = authenticate(session, email="ann@example.org", password=password)
        if user is not None:
            throttle.succeeded(session, email="ann@example.org", address="192.0.2.1", now=now)
    return "in" if user else "wrong"


def test_concurrent_guesses_are_all_counted(runtime: Runtime) -> None:
    """Against SQLite and PostgreSQL (the database_url fixture runs both)."""
    make_user(runtime, "ann@example.org", Role.viewer)
    guesses = 12
    with ThreadPoolExecutor(max_workers=guesses) as pool:
        answers = list(pool.map(lambda n: _guess(runtime, f"wrong {n}"), range(guesses)))
    assert _failures(runtime, "ann@example.org") == {"192.0.2.1": guesses}
    # Only the first five got to try a password; the clock did not move, so the rest waited.
    assert answers.count("wrong") == throttle.FREE_FAILURES
    assert answers.count("throttled") == guesses - throttle.FREE_FAILURES
    assert _guess(runtime, PASSWORD) == "throttled"


def test_the_delay_doubles_and_is_capped() -> None:
    delays = [throttle.delay_after(n).total_seconds() for n in range(4, 17)]
    assert delays == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def test_the_cookie_is_rewritten_at_most_once_a_minute(
    client: TestClient, runtime: Runtime, clock: FrozenClock
) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    assert login(client, "ann@example.org").status_code == 303
    clock.advance(seconds=30)
    assert "set-cookie" not in client.get("/calendar").headers
    clock.advance(seconds=30)
    assert "cadence_session=" in client.get("/calendar").headers["set-cookie"]
    assert "set-cookie" not in client.get("/coverage").headers
