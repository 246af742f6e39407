"""What the fakes of the newer platforms share: a SinkServer answering through routes,
a queue of scripted answers per endpoint (or for any request), and bearer-token checks.

A fake subclasses `ScriptedFake`, fills `routes()` with `(method, path pattern) ->
(endpoint name, handler)` and answers like its platform; tests script the next answer
with `answer_next(answer, endpoint=...)` (an `Answer` from tests.fakes.sinks: a
platform error, `hang`, `drop`) before any check is made.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.sinks import Answer, RecordedRequest, SinkBacked, SinkServer

Handler = Callable[[RecordedRequest, re.Match[str]], Answer]


@dataclass
class ScriptedFake(SinkBacked):
    sink: SinkServer = field(default_factory=SinkServer)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._queued: dict[str | None, deque[Answer]] = {}
        self._routes = [
            (method, re.compile(pattern), name, handler)
            for (method, pattern), (name, handler) in self.routes().items()
        ]
        self.sink.answer_with(self._handle)

    def routes(self) -> dict[tuple[str, str], tuple[str, Handler]]:
        raise NotImplementedError

    def not_found(self, request: RecordedRequest) -> Answer:
        raise NotImplementedError

    def answer_next(self, *answers: Answer, endpoint: str | None = None) -> None:
        """The next requests (to `endpoint`, or any) get these answers, in order."""
        with self._lock:
            self._queued.setdefault(endpoint, deque()).extend(answers)

    def calls(self, endpoint_path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == endpoint_path]

    @staticmethod
    def bearer(request: RecordedRequest) -> str | None:
        scheme, _, token = (request.header("authorization") or "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None

    def _handle(self, request: RecordedRequest) -> Answer:
        for method, pattern, name, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None or method != request.method:
                continue
            with self._lock:
                for key in (name, None):
                    queue = self._queued.get(key)
                    if queue:
                        return queue.popleft()
            return handler(request, match)
        with self._lock:
            queue = self._queued.get(None)
            if queue:
                return queue.popleft()
        return self.not_found(request)
