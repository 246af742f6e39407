"""Browser tests: `cadence serve` as a real process, driven by Debian's Chromium through
Playwright. One server and one browser for the module; each test gets a fresh
browser context (its own cookies) and its own objectives, so tests do not meet."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import FAKES_ALLOWED
from tests.fakes.processes import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ZONE = "Europe/London"
PASSWORD = "a long and lovely password"
ADMIN = "comms-lead@example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    env: dict[str, str]
    api: httpx.Client
    db_path: Path

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def today(self) -> date:
        return datetime.now(ZoneInfo(ZONE)).date()

    def objective(self, name: str, **fields: Any) -> dict[str, Any]:
        response = self.api.post("/objectives", json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def channel(self, **body: Any) -> dict[str, Any]:
        response = self.api.post("/channels", json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """More CADENCE_* settings for the module's server (a module overrides this)."""
    return {}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, server_env: dict[str, str]
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "CADENCE_DATABASE_URL": f"sqlite:///{tmp / 'cadence.db'}",
        "CADENCE_KEY_FILE": str(tmp / "cadence.key"),
        "CADENCE_MEDIA_DIR": str(tmp / "media"),
        "CADENCE_TIMEZONE": ZONE,
        "CADENCE_BASE_URL": f"http://127.0.0.1:{port}",
        "CADENCE_LOG_LEVEL": "WARNING",
        "CADENCE_OUTBOUND_ALLOW": FAKES_ALLOWED,
        # Failed publishes retry soon, so screenshots show settled states quickly.
        "CADENCE_RETRY_BASE_SECONDS": "1",
        "CADENCE_MAX_ATTEMPTS": "2",
        **server_env,
    }
    env.pop("CADENCE_SECRET_KEY", None)
    log_path = tmp / "serve.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "cadence serve did not come up"
            time.sleep(0.1)
        srv = Server(base=base, env=env, api=httpx.Client(), db_path=tmp / "cadence.db")
        # The first password, the way the README says: `cadence user set-password`.
        out = srv.cli(
            "user",
            "set-password",
            "--email",
            ADMIN,
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert "password set" in out
        token = srv.cli("token", "create", "--email", ADMIN, "--role", "admin").splitlines()[-1]
        srv.api = httpx.Client(
            base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
        yield srv
        srv.api.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):  # .ci/run installs it: a skip there would hide a failure
            pytest.fail(f"{CHROMIUM} is missing in CI")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(
        base_url=server.base, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def log_in(page: Any, email: str = ADMIN, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/calendar")
