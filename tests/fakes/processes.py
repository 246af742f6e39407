"""Start helper processes (the webhook sink, cadence workers) for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_sink(delay_ms: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    """Start the webhook sink; return the process and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.webhook_sink", "--delay-ms", str(delay_ms)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"webhook sink did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def start_worker(env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `cadence worker` with the given CADENCE_* settings, logging to a file."""
    full_env = {**os.environ, **env}
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
