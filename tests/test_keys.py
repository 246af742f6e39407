"""Secret keys: a lost or replaced key is noticed at start, never papered over; a
channel whose credentials no key reads says so (409) and is repaired by new ones.
Also the other start-up and operations guards: short keys, the metrics token."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from app.config import Settings, get_settings
from app.keys import KeyProblem, check_credentials_readable, load_keys
from app.main import create_app
from app.runtime import Runtime
from tests.conftest import make_token
from tests.fakes.processes import ROOT
from tests.helpers import API, webhook_channel

OLD_KEY = "the-old-key-that-encrypted-the-channels-1"
NEW_KEY = "a-new-key-made-after-the-old-one-was-lost-2"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        # Generous: the command stops at once, but a busy machine starts Python slowly.
        timeout=300,
        check=False,
    )


@pytest.fixture
def key_file_world(sqlite_template: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A database with a channel whose credentials were sealed with the key file's key."""
    db = tmp_path / "cadence.db"
    shutil.copy(sqlite_template, db)
    key_file = tmp_path / "cadence.key"
    key_file.write_text(OLD_KEY + "\n")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{db}",
        key_file=key_file,
        media_dir=tmp_path / "media",
        outbound_allow="127.0.0.1",  # the test's webhook channel points at this machine
    )
    runtime = Runtime.build(settings)
    try:
        from app.users.models import Role

        with TestClient(create_app(runtime)) as client:
            admin = {"Authorization": f"Bearer {make_token(runtime, Role.admin)}"}
            webhook_channel(client, admin)
    finally:
        runtime.close()
    env = {
        **os.environ,
        "CADENCE_DATABASE_URL": f"sqlite:///{db}",
        "CADENCE_KEY_FILE": str(key_file),
        "CADENCE_MEDIA_DIR": str(tmp_path / "media"),
        "CADENCE_PORT": "9",  # never reached: the command must stop before serving
    }
    for name in ("CADENCE_SECRET_KEY", "CADENCE_RETIRED_SECRET_KEYS"):
        env.pop(name, None)
    yield env


@pytest.mark.parametrize("command", [["serve"], ["worker"]])
def test_serve_and_worker_refuse_to_start_with_a_replaced_key_file(
    key_file_world: dict[str, str], command: list[str]
) -> None:
    key_file = Path(key_file_world["CADENCE_KEY_FILE"])
    key_file.write_text(NEW_KEY + "\n")
    done = _cli(key_file_world, *command)
    assert done.returncode == 1, done.stderr
    assert str(key_file) in done.stderr
    assert "CADENCE_RETIRED_SECRET_KEYS" in done.stderr
    assert "Intranet hook" in done.stderr and OLD_KEY not in done.stderr


def test_serve_refuses_and_makes_no_key_when_the_key_file_is_lost(
    key_file_world: dict[str, str],
) -> None:
    key_file = Path(key_file_world["CADENCE_KEY_FILE"])
    key_file.unlink()
    done = _cli(key_file_world, "serve")
    assert done.returncode == 1
    assert f"the key file {key_file} is missing" in done.stderr
    assert "CADENCE_RETIRED_SECRET_KEYS" in done.stderr
    assert not key_file.exists()


def test_a_retired_key_still_reads_the_old_credentials(
    key_file_world: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=key_file_world["CADENCE_DATABASE_URL"],
        secret_key=NEW_KEY,
        key_file=tmp_path / "unused.key",
    )
    replaced = Runtime.build(settings)
    try:
        with pytest.raises(KeyProblem, match="CADENCE_RETIRED_SECRET_KEYS"):
            check_credentials_readable(replaced)
    finally:
        replaced.close()
    retired = Runtime.build(settings.model_copy(update={"retired_secret_keys": OLD_KEY}))
    try:
        check_credentials_readable(retired)
        with TestClient(create_app(retired)) as client:
            from app.users.models import Role

            admin = {"Authorization": f"Bearer {make_token(retired, Role.admin)}"}
            [channel] = client.get(f"{API}/channels", headers=admin).json()["items"]
            assert client.get(f"{API}/channels/{channel['id']}", headers=admin).status_code == 200
            # A write re-encrypts with the current key, so the retired one can go.
            patched = client.patch(
                f"{API}/channels/{channel['id']}",
                json={"credentials": {"signing_secret": "new-signing-secret"}},
                headers=admin,
            )
            assert patched.status_code == 200
    finally:
        retired.close()
    current_only = Runtime.build(settings)
    try:
        check_credentials_readable(current_only)
    finally:
        current_only.close()


def test_a_first_start_makes_a_key_file(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "fresh.db"
    shutil.copy(sqlite_template, db)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{db}",
        key_file=tmp_path / "made.key",
    )
    runtime = Runtime.build(settings)
    try:
        assert (tmp_path / "made.key").stat().st_mode & 0o777 == 0o600
        assert load_keys(settings, runtime.engine) == settings.secret_keys()
    finally:
        runtime.close()


def test_a_channel_with_unreadable_credentials_answers_409_until_repaired(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    channel = webhook_channel(client, admin)
    path = f"{API}/channels/{channel['id']}"
    other = runtime.settings.model_copy(update={"secret_key": NEW_KEY})
    replaced = Runtime.build(other, clock=runtime.clock)
    try:
        with TestClient(create_app(replaced)) as lost:
            for answer in (
                lost.get(path, headers=admin),
                lost.patch(path, json={"name": "Renamed"}, headers=admin),
            ):
                assert answer.status_code == 409, answer.text
                assert "re-enter the credentials" in answer.text
            assert lost.get(path, headers=admin).json()["detail"][0]["loc"] == [
                "body",
                "credentials",
            ]
            assert lost.get(path, headers=admin).json()  # nothing was renamed:
            listed = lost.get(f"{API}/channels", headers=admin).json()["items"]
            assert [(c["name"], c["credential_fields"]) for c in listed] == [("Intranet hook", [])]
            tested = lost.post(f"{path}/test", headers=admin).json()
            assert tested["ok"] is False and "re-enter the credentials" in tested["detail"]
            page = lost.get(f"/channels/{channel['id']}")  # not logged in: only no 500
            assert page.status_code in (200, 303)
            repaired = lost.patch(
                path,
                json={"credentials": {"signing_secret": "re-entered-secret"}},
                headers=admin,
            )
            assert repaired.status_code == 200, repaired.text
            assert repaired.json()["credential_fields"] == ["signing_secret"]
            assert repaired.json()["name"] == "Intranet hook"
            assert lost.get(path, headers=admin).status_code == 200
    finally:
        replaced.close()


def test_a_short_secret_key_is_refused_at_start(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import main

    monkeypatch.setenv("CADENCE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CADENCE_SECRET_KEY", "only-31-bytes-long-not-enough!!")
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(main, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 1
    assert "CADENCE_SECRET_KEY is 31 bytes long; it must be at least 32" in done.output


def test_metrics_need_the_token_when_one_is_set(settings: Settings) -> None:
    with TestClient(create_app(Runtime.build(settings))) as open_client:
        assert open_client.get("/metrics").status_code == 200
    guarded = Runtime.build(settings.model_copy(update={"metrics_token": "scrape-me-please"}))
    try:
        with TestClient(create_app(guarded)) as client:
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "Basic scrape-me-please"},
            ):
                answer = client.get("/metrics", headers=headers)
                assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
            ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
            assert ok.status_code == 200 and "cadence_deliveries" in ok.text
    finally:
        guarded.close()


def test_the_workers_metrics_port_needs_the_token_too() -> None:
    import socket

    import httpx

    from app.metrics import serve_metrics

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    serve_metrics(port, addr="127.0.0.1", token="scrape-me-please")
    url = f"http://127.0.0.1:{port}/"
    assert httpx.get(url, timeout=30).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=30).status_code == 401
    ok = httpx.get(url, headers={"Authorization": "Bearer scrape-me-please"}, timeout=30)
    assert ok.status_code == 200 and "cadence_publish_duration_seconds" in ok.text
