"""What a process needs to do its work: settings, database, clock, credential box.

Built once per process (cadence serve, cadence worker, tests) and passed down, so
nothing reaches for globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401  (every model mapped before any query)
from app.clock import Clock, SystemClock
from app.config import Settings
from app.crypto import CredentialBox
from app.db import make_engine, make_session_factory, read_only
from app.keys import load_keys


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    box: CredentialBox
    # Called after a change that may make a delivery due sooner than the next tick
    # (set by the embedded scheduler; a no-op when there is none in this process).
    wake_dispatcher: Callable[[], None] = field(default=lambda: None)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            clock=clock or SystemClock(),
            box=CredentialBox(load_keys(settings, engine)),
        )

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for work that only reads (GET requests): they take no write lock."""
        return make_session_factory(read_only(self.engine))

    def close(self) -> None:
        self.engine.dispose()
