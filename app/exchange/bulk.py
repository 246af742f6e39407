"""Python's cyclic garbage collector held off while one request builds thousands of objects.

A 5,000-row import makes hundreds of thousands of container objects (rows, posts,
deliveries, ORM states) that all stay alive until the request ends. The collector
counts allocations, not garbage, so it runs over and over while they are made, each
full pass walking every object of the process (the whole app too): profiled
(bench: spreadsheet import), that was about 40 % of the import's CPU time. Mercurial
does the same for its bulk parsing (`util.nogc`).

Reference counting still frees everything that is not in a cycle; cycles made
meanwhile wait for the next collection, which runs as usual once the last bulk
request has ended. The pause is process-wide, so concurrent bulk requests share
it: the collector comes back when the last one ends, and only if it was on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
