"""Logs a person can read: one line per thing to act on, no third-party chatter at INFO,
plain text on a terminal and JSON lines elsewhere."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.clock import FrozenClock
from app.config import Settings
from app.logs import JsonFormatter, TextFormatter, configure, formatter_for
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from app.scheduler import Scheduler
from tests.fakes.sinks import Answer, SinkServer
from tests.helpers import objective, post, webhook_channel


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure() changes process-wide logging; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.setLevel(levels.get(name, logging.NOTSET))


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def about(lines: list[dict[str, Any]], delivery_id: str) -> list[dict[str, Any]]:
    return [e for e in lines if e.get("delivery_id") == delivery_id or delivery_id in e["message"]]


def publish_one(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock, url: str
) -> str:
    """Schedule 'Open day' to a webhook at `url`, publish what is due; the delivery id."""
    hook = webhook_channel(client, admin, name="News hook", url=url)
    created = post(
        client,
        admin,
        text="Doors open at nine.",
        title="Open day",
        objective_ids=[objective(client, admin)["id"]],
        channel_ids=[hook["id"]],
        scheduled_at="2026-11-23T09:00:01Z",
    )
    clock.advance(seconds=1)

    async def go() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(go())
    delivery_id: str = created["deliveries"][0]["id"]
    return delivery_id


def test_one_published_delivery_is_one_readable_info_line(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    sink.answer_always(
        Answer(
            body=b'{"id": "m1", "url": "https://intranet.example.org/m1"}',
            headers={"Content-Type": "application/json"},
        )
    )
    out = io.StringIO()
    configure("INFO", "json", out)
    delivery_id = publish_one(client, admin, runtime, clock, sink.url_for("/hook"))

    [line] = about(json_lines(out), delivery_id)
    assert line["level"] == "info"
    assert line["message"] == (
        "published post 'Open day' to Webhook News hook at "
        f"https://intranet.example.org/m1 (delivery {delivery_id})"
    )
    assert (line["outcome"], line["platform"]) == ("published", "webhook")


def test_a_failed_delivery_is_one_line_and_its_alert_one_more(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    sink.answer_always(Answer(status=400, body=b"no such hook"))
    out = io.StringIO()
    configure("INFO", "json", out)
    delivery_id = publish_one(client, admin, runtime, clock, sink.url_for("/hook"))

    failed, alert = about(json_lines(out), delivery_id)
    assert failed["level"] == "warning"
    assert failed["message"].startswith("could not publish post 'Open day' to Webhook News")
    assert failed["outcome"] == "permanent"
    assert alert["level"] == "info"
    assert alert["message"].startswith("alert opened: Could not publish post 'Open day'")
    assert alert["kind"] == "delivery_failed"


def run_scheduler(runtime: Runtime, ticks: int) -> None:
    """Run the real scheduler until its one-tick job has run `ticks` times, then stop it."""

    class CountingDispatcher(Dispatcher):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.wakes = 0

        def wake(self) -> None:
            self.wakes += 1
            super().wake()

    runtime.settings = runtime.settings.model_copy(update={"dispatch_interval_seconds": 0.02})

    async def go() -> None:
        dispatcher = CountingDispatcher(runtime)
        scheduler = Scheduler(runtime, dispatcher=dispatcher)
        scheduler.start()
        while dispatcher.wakes < ticks:
            await asyncio.sleep(0.01)
        await scheduler.stop()

    asyncio.run(asyncio.wait_for(go(), timeout=60))


def test_scheduler_job_runs_are_not_logged_at_info(runtime: Runtime) -> None:
    out = io.StringIO()
    configure("INFO", "json", out)
    run_scheduler(runtime, ticks=3)
    lines = json_lines(out)
    # Neither APScheduler's INFO lines ("Running job ...", "... executed successfully")
    # nor errors about job runs that the stop cut short.
    assert [e for e in lines if e["logger"].startswith("apscheduler")] == []
    messages = [e["message"] for e in lines]
    assert sum(m.startswith("worker ") and " started" in m for m in messages) == 1
    assert sum(m.startswith("worker ") and m.endswith(" stopped") for m in messages) == 1


def test_debug_lets_the_scheduler_job_runs_through(runtime: Runtime) -> None:
    out = io.StringIO()
    configure("DEBUG", "json", out)
    run_scheduler(runtime, ticks=3)
    executed = [
        e
        for e in json_lines(out)
        if e["logger"].startswith("apscheduler") and "executed successfully" in e["message"]
    ]
    assert executed


@pytest.mark.parametrize("name", ["httpx", "uvicorn.access", "sqlalchemy.engine", "alembic"])
def test_third_party_info_only_when_debugging(name: str) -> None:
    out = io.StringIO()
    configure("INFO", "json", out)
    logging.getLogger(name).info("chatter")
    logging.getLogger(name).warning("worth seeing")
    logging.getLogger("app.somewhere").info("ours")
    assert [(e["logger"], e["message"]) for e in json_lines(out)] == [
        (name, "worth seeing"),
        ("app.somewhere", "ours"),
    ]

    out = io.StringIO()
    configure("DEBUG", "json", out)
    logging.getLogger(name).info("chatter")
    assert [e["message"] for e in json_lines(out)] == ["chatter"]


def test_text_format_is_plain() -> None:
    out = io.StringIO()
    configure("INFO", "text", out)
    logging.getLogger("app.publishing").info(
        "published post %r to Slack #news (delivery %s)",
        "Open day",
        "d_123",
        extra={"delivery_id": "d_123", "platform": "slack", "attempt": 2},
    )
    logging.getLogger("httpx").warning("connection pool is full")
    first, second = out.getvalue().splitlines()
    with pytest.raises(json.JSONDecodeError):
        json.loads(first)
    # The time, the level, the message; context the message does not say already.
    assert first[:19].replace("-", "").replace(":", "").replace(" ", "").isdigit()
    assert first[20:].startswith(
        "INFO    published post 'Open day' to Slack #news (delivery d_123)  (attempt=2)"
    )
    assert second[20:] == "WARNING [httpx] connection pool is full"


def test_text_format_keeps_tracebacks() -> None:
    out = io.StringIO()
    configure("INFO", "text", out)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("app.x").exception("step failed")
    text = out.getvalue()
    assert "ERROR   step failed" in text
    assert "RuntimeError: boom" in text


def test_auto_picks_text_on_a_terminal_and_json_elsewhere() -> None:
    primary, secondary = os.openpty()
    read_end, write_end = os.pipe()
    with (
        os.fdopen(secondary, "w") as terminal,
        os.fdopen(write_end, "w") as pipe,
        os.fdopen(primary, "rb", buffering=0),
        os.fdopen(read_end, "rb"),
    ):
        assert isinstance(formatter_for("auto", terminal), TextFormatter)
        assert isinstance(formatter_for("auto", pipe), JsonFormatter)
        # An explicit format wins over the guess.
        assert isinstance(formatter_for("json", terminal), JsonFormatter)
        assert isinstance(formatter_for("text", pipe), TextFormatter)
    assert isinstance(formatter_for("auto", io.StringIO()), JsonFormatter)


def test_log_settings_are_checked() -> None:
    assert Settings(_env_file=None, log_level="debug").log_level == "DEBUG"  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="log_level"):
        Settings(_env_file=None, log_level="verbose")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="log_format"):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg]
