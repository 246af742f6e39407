"""Logging setup: what a person acts on at INFO, third-party chatter only when debugging.

Two formats: plain lines for a person at a terminal, one JSON object a line for a
log collector. Cadence's own loggers (`app`, `connectors`) log at the chosen level;
every other library is held at WARNING unless the level is DEBUG, so the
scheduler's per-second job runs, each HTTP request and each SQL statement stay out
of the way.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["auto", "text", "json"]

OWN_LOGGERS = ("app", "connectors")
# Libraries known to log at INFO in normal work. Held at WARNING by name as well as
# through the root logger, because some (uvicorn) set their own level when started.
THIRD_PARTY_LOGGERS = (
    "aiohttp",
    "alembic",
    "apscheduler",
    "asyncio",
    "httpcore",
    "httpx",
    "multipart",
    "oauthlib",
    "python_multipart",
    "requests_oauthlib",
    "sqlalchemy",
    "tweepy",
    "urllib3",
    "uvicorn",
    "uvicorn.access",
    "uvicorn.error",
)

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the `extra` context."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """`2026-12-02 09:00:01 INFO    published post 'Open day' to Slack #news (...)`.

    Context given in `extra` that the message does not already say is appended as
    `key=value`; lines from other libraries are prefixed with their logger's name.
    """

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%d %H:%M:%S")
        message = record.getMessage()
        if not record.name.startswith(OWN_LOGGERS):
            message = f"[{record.name}] {message}"
        context = " ".join(
            f"{key}={value}"
            for key, value in _extras(record).items()
            if value is not None and not _says(message, str(value))
        )
        line = f"{when} {record.levelname:<7} {message}"
        if context:
            line = f"{line}  ({context})"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def _says(message: str, value: str) -> bool:
    """Whether `value` appears in `message` as a whole word (any case)."""
    pattern = rf"(?<!\w){re.escape(value)}(?!\w)"
    return re.search(pattern, message, re.IGNORECASE) is not None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def formatter_for(fmt: LogFormat, stream: TextIO) -> logging.Formatter:
    """`text` for a terminal and `json` otherwise when `fmt` is `auto`."""
    if fmt == "auto":
        fmt = "text" if _is_terminal(stream) else "json"
    return TextFormatter() if fmt == "text" else JsonFormatter()


def configure(level: str = "INFO", fmt: LogFormat = "auto", stream: TextIO | None = None) -> None:
    """Send every log record to `stream` (standard error by default) in `fmt`."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(fmt, stream))
    own_level = logging.getLevelName(level.upper())
    debugging = own_level <= logging.DEBUG
    others = own_level if debugging else max(own_level, logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(others)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own_level)
    for name in THIRD_PARTY_LOGGERS:
        # NOTSET: follow the root logger (DEBUG when debugging).
        logging.getLogger(name).setLevel(logging.NOTSET if debugging else logging.WARNING)
