"""New passwords: at least 12 characters and not easily guessed (zxcvbn score 3 or more),
wherever a password is set: the users page, the profile page and the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.errors import InvalidInput
from app.runtime import Runtime
from app.users.models import Role
from app.users.passwords import check_strength
from tests.web.test_pages import PASSWORD, csrf, errors_of, login, make_user


@pytest.mark.parametrize(
    ("password", "advice"),
    [
        ("short pass", "at least 12 characters"),
        ("password1234", "This is a very common password."),
        ("aaaaaaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
        ("qwertyuiopasdf", "too easy to guess"),
    ],
)
def test_weak_passwords_are_refused_with_advice(password: str, advice: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_strength(password, field="new_password")
    [problem] = refused.value.problems
    assert problem.loc == ("body", "new_password") and advice in problem.msg


def test_a_password_may_not_lean_on_the_email() -> None:
    check_strength("margaret.hamilton-1936")
    with pytest.raises(InvalidInput, match="too easy to guess"):
        check_strength("margaret.hamilton-1936", user_inputs=("margaret.hamilton-1936@nasa.gov",))


def test_a_very_long_password_is_judged_quickly_by_its_start() -> None:
    check_strength("correct horse battery staple " * 30)  # 870 characters
    with pytest.raises(InvalidInput):
        check_strength("a" * 2000)


def test_the_users_page_refuses_a_weak_password(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "lead@example.org", Role.admin)
    assert login(client, "lead@example.org").status_code == 303
    token = csrf(client, "/users")
    answer = client.post(
        "/users",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "role": "editor",
            "password": "password1234",
        },
    )
    assert answer.status_code == 422
    assert "This is a very common password." in errors_of(answer.text, "password")
    assert "new@example.org" not in client.get("/users").text.split("<form")[0]


def test_the_profile_page_refuses_a_weak_new_password(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "ann@example.org", Role.viewer)
    assert login(client, "ann@example.org").status_code == 303
    token = csrf(client, "/profile")
    answer = client.post(
        "/profile",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "ann@example.org1",
            "confirm_password": "ann@example.org1",
        },
    )
    assert answer.status_code == 422
    assert "too easy to guess" in errors_of(answer.text, "new_password")
    assert login(client, "ann@example.org").status_code == 303  # the old one still works


def test_the_cli_refuses_a_weak_password(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import main
    from app.config import get_settings

    monkeypatch.setenv("CADENCE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CADENCE_SECRET_KEY", "test-secret-key-of-at-least-32-bytes")
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(
            main,
            ["user", "set-password", "--email", "x@example.org", "--role", "viewer"],
            input="password1234\npassword1234\n",
        )
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 1 and "This is a very common password." in done.output
