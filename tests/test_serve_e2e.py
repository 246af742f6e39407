"""`cadence serve` as a newcomer runs it: a real process with its embedded scheduler,
driven over HTTP with a token from `cadence token create`, publishing to a real webhook."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import FAKES_ALLOWED
from tests.fakes.processes import ROOT, start_sink


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "CADENCE_DATABASE_URL": f"sqlite:///{tmp_path / 'cadence.db'}",
        "CADENCE_KEY_FILE": str(tmp_path / "cadence.key"),
        "CADENCE_MEDIA_DIR": str(tmp_path / "media"),
        "CADENCE_LOG_LEVEL": "INFO",
        "CADENCE_OUTBOUND_ALLOW": FAKES_ALLOWED,
    }
    env.pop("CADENCE_SECRET_KEY", None)
    log = (tmp_path / "serve.log").open("wb")
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
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "cadence serve did not come up"
            time.sleep(0.1)
        token = (
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "app.cli",
                    "token",
                    "create",
                    "--email",
                    "new@example.org",
                    "--role",
                    "admin",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        yield base, {"Authorization": f"Bearer {token}"}
    finally:
        proc.terminate()
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert proc.wait(timeout=30) in (0, -15)
        log.close()
        # Not a terminal, so JSON lines; the worker says it stopped, APScheduler's
        # per-second job runs stay out of the log at INFO.
        lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines()]
        messages = [entry["message"] for entry in lines]
        assert any(m.startswith(f"serving http://127.0.0.1:{port}/") for m in messages)
        assert any(m.startswith("worker ") and m.endswith(" stopped") for m in messages)
        assert not [e for e in lines if e["logger"].startswith(("apscheduler", "uvicorn.access"))]
        # The key file was generated on first run, readable by its owner only.
        assert (tmp_path / "cadence.key").stat().st_mode & 0o777 == 0o600


def test_a_scheduled_post_reaches_the_webhook(
    served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, auth = served
    sink, sink_url = start_sink()
    try:
        api = httpx.Client(base_url=f"{base}/api/v1", headers=auth)
        objective = api.post("/objectives", json={"name": "Events"}).json()
        channel = api.post(
            "/channels",
            json={
                "name": "Sink",
                "platform": "webhook",
                "audience": "internal",
                "config": {"url": f"{sink_url}/hook"},
            },
        ).json()
        due = datetime.now(UTC) + timedelta(seconds=2)
        created = api.post(
            "/posts",
            json={
                "text": "Doors open at nine",
                "objective_ids": [objective["id"]],
                "channel_ids": [channel["id"]],
                "scheduled_at": due.isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        [delivery] = created.json()["deliveries"]

        deadline = time.monotonic() + 30
        while True:
            post = api.get(f"/posts/{created.json()['id']}").json()
            if post["status"] == "published":
                break
            assert time.monotonic() < deadline, post
            time.sleep(0.1)
        with urllib.request.urlopen(f"{sink_url}/stats") as response:
            stats = json.load(response)
        assert stats["keys"] == {delivery["id"]: 1}
        arrived = datetime.fromtimestamp(stats["arrivals"][delivery["id"]], UTC)
        assert arrived >= due  # never early
        print(
            f"arrived {(arrived - due).total_seconds():.3f} s after its time"
        )  # a figure, not a test
        [published] = post["deliveries"]
        assert published["external_id"] == f"msg-{delivery['id']}"
        assert published["permalink"] == f"https://sink.example/{delivery['id']}"

        metrics = httpx.get(f"{base}/metrics").text
        assert 'cadence_deliveries{status="published"} 1.0' in metrics
        assert (
            'cadence_publish_outcomes_total{outcome="published",platform="webhook"} 1.0' in metrics
        )
        assert "cadence_publish_lag_seconds_bucket" in metrics
        assert httpx.get(f"{base}/docs").status_code == 200
    finally:
        sink.kill()
    log_lines = [
        json.loads(line)
        for line in (tmp_path / "serve.log").read_text().splitlines()
        if line.startswith("{")
    ]
    about_delivery = [line for line in log_lines if line.get("delivery_id") == delivery["id"]]
    assert about_delivery and all(line["level"] for line in about_delivery)
