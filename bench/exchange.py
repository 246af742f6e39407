"""Spreadsheet import: a 5,000-row CSV file through POST /posts/import on SQLite, beside
its reference in the same run: the same 5,000 posts sent as JSON to POST /posts/batch
(5 batches of 1,000, its largest), so the import's own cost (reading the file,
resolving names and times, the row checks) shows apart from creating the posts.

Served by uvicorn in this process and called over real HTTP (bench.api.served), so the
figure includes reading the body, parsing the file, every row's checks, the platform
rules, the writes and the coverage count, as a client sees them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from app.config import Settings
from app.db import transaction
from app.migrate import upgrade
from app.runtime import Runtime
from app.users.models import Role
from app.users.service import create_token, get_or_create_user
from bench.api import served
from bench.engine import SECRET

# The target for 5,000 rows on SQLite.
TARGET_SECONDS = 5.0
HEADER = "text,scheduled_at,objectives,channels,title,link,timezone,status\n"


def sheet(rows: int, start: datetime) -> bytes:
    """Rows as a comms team writes them: distinct texts, local times, names not ids."""
    lines = [
        f'"Post {i}: open day on Saturday, come and see the labs",'
        f"{(start + timedelta(minutes=10 * i)).strftime('%Y-%m-%d %H:%M')},"
        '"Bench;Open days",Bench hook,,https://example.org/open-day,Europe/London,\n'
        for i in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


def run(workdir: Path, *, rows: int = 5000) -> dict[str, float]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{workdir / 'import.db'}",
        secret_key=SECRET,
        media_dir=workdir / "import-media",
        key_file=workdir / "import.key",
        outbound_allow="127.0.0.1",
    )
    runtime = Runtime.build(settings)
    upgrade(runtime.engine)
    now = datetime.now(UTC)
    with transaction(runtime.sessions) as session:
        user = get_or_create_user(session, email="bench@example.org", role=Role.editor, now=now)
        token = create_token(session, user=user, now=now)
    body = sheet(rows, now + timedelta(days=2))
    try:
        with (
            served(runtime) as base,
            httpx.Client(
                base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as client,
        ):
            admin = _admin_headers(runtime, now)
            objective_ids = [
                client.post("/objectives", json={"name": name}, headers=admin).json()["id"]
                for name in ("Bench", "Open days")
            ]
            channel = client.post(
                "/channels",
                headers=admin,
                json={
                    "name": "Bench hook",
                    "platform": "webhook",
                    "audience": "internal",
                    "config": {"url": "http://127.0.0.1:9/hook"},
                    "credentials": {"signing_secret": "bench-signing-secret"},
                },
            ).json()
            csv = {"Content-Type": "text/csv"}
            began = time.perf_counter()
            checked = client.post("/posts/import?dry_run=true", content=body, headers=csv)
            dry = time.perf_counter() - began
            began, cpu = time.perf_counter(), time.process_time()
            done = client.post("/posts/import", content=body, headers=csv)
            seconds = time.perf_counter() - began
            # The server runs in this process: its CPU time shows the cost on a busy machine.
            cpu_seconds = time.process_time() - cpu
            if checked.status_code != 200 or done.status_code != 201:
                raise RuntimeError(f"import refused: {done.status_code} {done.text[:500]}")
            batch = _batch_reference(client, rows, now + timedelta(days=2), objective_ids, channel)
    finally:
        runtime.close()
    return {
        "rows": float(rows),
        "bytes": float(len(body)),
        "dry_run_s": dry,
        "import_s": seconds,
        "import_cpu_s": cpu_seconds,
        **batch,
    }


def _batch_reference(
    client: httpx.Client,
    rows: int,
    start: datetime,
    objective_ids: list[str],
    channel: dict[str, object],
) -> dict[str, float]:
    """The same posts through POST /posts/batch, 1,000 at a time: wall and CPU time."""
    posts = [
        {
            "text": f"Post {i}: open day on Saturday, come and see the labs",
            "scheduled_at": (start + timedelta(minutes=10 * i)).replace(second=0).isoformat(),
            "objective_ids": objective_ids,
            "channel_ids": [channel["id"]],
            "link": "https://example.org/open-day",
        }
        for i in range(rows)
    ]
    began, cpu = time.perf_counter(), time.process_time()
    for at in range(0, rows, 1000):
        answer = client.post("/posts/batch", json={"posts": posts[at : at + 1000]})
        if answer.status_code != 201:
            raise RuntimeError(f"batch refused: {answer.status_code} {answer.text[:500]}")
    return {
        "batch_s": time.perf_counter() - began,
        "batch_cpu_s": time.process_time() - cpu,
    }


def _admin_headers(runtime: Runtime, now: datetime) -> dict[str, str]:
    with transaction(runtime.sessions) as session:
        user = get_or_create_user(session, email="admin@example.org", role=Role.admin, now=now)
        return {"Authorization": f"Bearer {create_token(session, user=user, now=now)}"}


if __name__ == "__main__":
    import tempfile

    print(run(Path(tempfile.mkdtemp(prefix="cadence-import-bench-"))))
