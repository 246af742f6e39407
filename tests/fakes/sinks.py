"""A real HTTP server standing in for the internal sinks: JSON webhooks, Slack, Teams, Mattermost.

It listens on 127.0.0.1 on a free port, runs an aiohttp server on its own event loop
in a background thread (so it copes with thousands of concurrent requests from the
publishing engine's crash test and benchmark), records every request, and answers
what it is told to.

    with SinkServer() as sink:
        sink.answer(slack_error("channel_not_found"))      # next request, any path
        sink.answer(hang(5), path="/hooks/abc")             # next request to that path
        sink.answer_always(webhook_accepted())              # after the queued ones
        url = sink.url_for("/services/T1/B1/secret")
        ...
        sink.requests            # [RecordedRequest(method, path, query, headers, body, ...)]
        sink.idempotency_keys()  # the Idempotency-Key of each request, in order
        sink.wait_for_requests(100, timeout=5)

Answers: queued answers (per path, then for any path) are used first, one per
request, in order; then the `answer_always` answer for the path, then the global one
(default: 200 `ok`). `answer_with(fn)` answers every request with `fn(recorded)`.
An `Answer` can wait `delay` seconds before answering (a timeout after the request was
received), or `drop` the connection without answering. Requests are recorded when
their body has been read, before the answer, so dropped and hung ones are recorded too.

Helpers build each platform's real answers: `slack_ok`, `slack_error(code)`,
`mattermost_ok`, `mattermost_error(error_id)`, `teams_accepted`, `teams_legacy_ok`,
`teams_legacy_throttled`, `teams_error`, `webhook_accepted`, `rate_limited`,
`server_error`, `hang`, `drop`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

# -- answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (or dropping)
    drop: bool = False  # close the connection without answering


def text_answer(status: int, text: str, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(
        status,
        text.encode(),
        {"Content-Type": "text/plain; charset=utf-8", **(headers or {})},
    )


def json_answer(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(
        status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


def ok() -> Answer:
    return text_answer(200, "ok")


def hang(seconds: float) -> Answer:
    """Receive the request, then say nothing for `seconds` (then 200 `ok`)."""
    return Answer(200, b"ok", {"Content-Type": "text/plain"}, delay=seconds)


def drop() -> Answer:
    """Receive the request, then close the connection without answering."""
    return Answer(drop=True)


def rate_limited(retry_after: str | int | None = None, body: str = "rate_limited") -> Answer:
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return text_answer(429, body, headers)


def server_error(status: int = 500, body: str = "Internal Server Error") -> Answer:
    return text_answer(status, body)


# JSON webhook (Cadence's own contract): any 2xx, optionally JSON {"id", "url"}.
def webhook_accepted(id: str | None = None, url: str | None = None, status: int = 200) -> Answer:
    data = {k: v for k, v in (("id", id), ("url", url)) if v is not None}
    return json_answer(status, data)


# Slack incoming webhooks answer plain text.
SLACK_STATUS = {
    "invalid_payload": 400,
    "no_text": 400,
    "too_many_attachments": 400,
    "invalid_blocks": 400,
    "action_prohibited": 403,
    "invalid_token": 403,
    "posting_to_general_channel_denied": 403,
    "channel_not_found": 404,
    "no_service": 404,
    "no_team": 404,
    "team_disabled": 404,
    "channel_is_archived": 410,
    "rollup_error": 500,
}


def slack_ok() -> Answer:
    return text_answer(200, "ok")


def slack_error(code: str, status: int | None = None) -> Answer:
    return text_answer(status or SLACK_STATUS[code], code)


def slack_rate_limited(retry_after: int = 1) -> Answer:
    return text_answer(429, "rate_limited", {"Retry-After": str(retry_after)})


# Mattermost: 200 `ok`; errors are model.AppError JSON.
MATTERMOST_STATUS = {
    "web.incoming_webhook.parse.app_error": 400,
    "web.incoming_webhook.text.app_error": 400,
    "web.incoming_webhook.invalid.app_error": 400,
    "web.incoming_webhook.channel.app_error": 404,
    "web.incoming_webhook.disabled.app_error": 501,
}
MATTERMOST_MESSAGE = {
    "web.incoming_webhook.parse.app_error": "Unable to parse incoming data",
    "web.incoming_webhook.text.app_error": "No text specified",
    "web.incoming_webhook.invalid.app_error": "Invalid webhook",
    "web.incoming_webhook.channel.app_error": "Couldn't find the channel",
    "web.incoming_webhook.disabled.app_error": "Incoming webhooks have been disabled by the system admin.",
}


def mattermost_ok() -> Answer:
    return text_answer(200, "ok")


def mattermost_error(
    error_id: str, message: str | None = None, status: int | None = None
) -> Answer:
    code = status or MATTERMOST_STATUS.get(error_id, 400)
    return json_answer(
        code,
        {
            "id": error_id,
            "message": message or MATTERMOST_MESSAGE.get(error_id, "error"),
            "detailed_error": "",
            "request_id": "p8mdwq4fyfgrtkdbg3r1ayqkqc",
            "status_code": code,
        },
    )


# Microsoft Teams: Workflows answer 202 with an empty body; legacy connectors 200 `1`.
def teams_accepted() -> Answer:
    return Answer(202, b"", {})


def teams_legacy_ok() -> Answer:
    return text_answer(200, "1")


def teams_legacy_throttled() -> Answer:
    return text_answer(
        200,
        "Webhook message delivery failed with error: Microsoft Teams endpoint returned "
        "HTTP error 429 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,"
        "cv=f1e4d9f8b4d34c5aa0e5bcd2d9ed3a1f.0..",
    )


def teams_error(status: int, code: str, message: str) -> Answer:
    return json_answer(status, {"error": {"code": code, "message": message}})


# -- the server ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: str  # the raw query string, "" when none
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float  # time.monotonic()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class SinkServer:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, default: Answer | None = None):
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._default = default or ok()
        self._always: dict[str, Answer] = {}
        self._queues: dict[str | None, deque[Answer]] = {}
        self._handler: Callable[[RecordedRequest], Answer] | None = None
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None

    # -- life ------------------------------------------------------------------------

    def start(self) -> SinkServer:
        assert self._thread is None, "already started"
        loop = asyncio.new_event_loop()
        ready: list[BaseException | None] = []
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
                ready.append(None)
            except BaseException as exc:  # pragma: no cover - bind failures
                ready.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="sink-server", daemon=True)
        self._thread.start()
        started.wait(10)
        if not ready or ready[0] is not None:
            raise RuntimeError(f"sink server did not start: {ready[0] if ready else 'timeout'}")
        return self

    async def _serve(self) -> None:
        server = web.Server(self._handle, access_log=None, handler_cancellation=True)
        self._runner = web.ServerRunner(server, shutdown_timeout=0.2)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock, backlog=4096)
        await site.start()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        loop = self._loop
        if self._runner is not None:
            future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop)
            try:
                future.result(10)
            except Exception:  # pragma: no cover - best effort
                pass
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop = None
        self._runner = None

    def __enter__(self) -> SinkServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + (path if path.startswith("/") else "/" + path)

    # -- telling it what to answer ---------------------------------------------------

    def answer(self, *answers: Answer, path: str | None = None) -> None:
        """Queue answers for the next requests (to `path`, or to any path), in order."""
        with self._lock:
            self._queues.setdefault(path, deque()).extend(answers)

    def answer_always(self, answer: Answer, path: str | None = None) -> None:
        """The answer once the queues are empty (for `path`, or the global default)."""
        with self._lock:
            if path is None:
                self._default = answer
            else:
                self._always[path] = answer

    def answer_with(self, handler: Callable[[RecordedRequest], Answer] | None) -> None:
        """Answer every request with `handler(request)` (None: back to queues/defaults).

        The handler runs on the server's event loop thread: keep it quick."""
        with self._lock:
            self._handler = handler

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._queues.clear()
            self._always.clear()
            self._handler = None
            self._default = ok()

    def _choose(self, recorded: RecordedRequest) -> Answer:
        with self._lock:
            handler = self._handler
            if handler is None:
                for key in (recorded.path, None):
                    queue = self._queues.get(key)
                    if queue:
                        return queue.popleft()
                return self._always.get(recorded.path, self._default)
        return handler(recorded)

    # -- reading what arrived ----------------------------------------------------------

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def idempotency_keys(self, path: str | None = None) -> list[str | None]:
        """The Idempotency-Key header of each request (to `path`), in arrival order."""
        with self._lock:
            return [
                r.headers.get("idempotency-key")
                for r in self.requests
                if path is None or r.path == path
            ]

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least `count` requests arrived; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
            return True

    # -- serving ---------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._arrived:
            self.requests.append(recorded)
            self._arrived.notify_all()
        answer = self._choose(recorded)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more to say on a closed connection
        return web.Response(status=answer.status, body=answer.body, headers=dict(answer.headers))


class SinkBacked:
    """Life cycle of a fake platform served by a SinkServer (`self.sink`): start and
    stop, use as a context manager, its address and what it received."""

    sink: SinkServer

    def start(self) -> Self:
        self.sink.start()
        return self

    def stop(self) -> None:
        self.sink.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.sink.url

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.sink.requests
