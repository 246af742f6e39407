"""Guardrails: a 10,000-character text checked against 1,000 guardrails, as a post
create does it (load the rules from the database, build the word trie, scan the text).

Printed next to the post-create reference of the API bench: the check must fit well
inside one create's time. A create reads the rules' version (one aggregate query) and
reuses the trie while they are unchanged; `build_and_scan` is the cost after a change.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.db import make_engine, make_session_factory
from app.migrate import upgrade
from app.team.guardrails import Matcher, Rule, matches
from app.team.models import Guardrail

RULES = 1_000
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _rules() -> list[Guardrail]:
    return [
        Guardrail(
            phrase=f"project codename{i} phase {i % 7}",
            audience="all" if i % 2 else "external",
            action="block" if i % 3 else "require_approval",
            note="bench",
            created_at=NOW,
            updated_at=NOW,
        )
        for i in range(RULES)
    ]


def _text(size: int) -> str:
    # Words that start many phrases ("project") without finishing one: the worst walk.
    return ("project codename7 phase " * (size // 24 + 1))[:size]


def _best(fn: object, repeats: int = 5) -> float:
    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()  # type: ignore[operator]
        timings.append(time.perf_counter() - began)
    return min(timings)


def run(workdir: Path) -> dict[str, float]:
    engine = make_engine(f"sqlite:///{workdir / 'guardrails.db'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.add_all(_rules())
        session.commit()
    external = Channel(audience="external")
    texts = {size: _text(size) for size in (1_000, 10_000)}
    rules = [Rule(str(i), r.phrase, r.audience, r.action, r.note) for i, r in enumerate(_rules())]
    with sessions() as session:

        def check(size: int, s: Session = session) -> None:
            matches(s, text=texts[size], title=None, link=None, channels=[external])

        check(1_000)  # warm up
        with_db = {size: _best(lambda size=size: check(size)) for size in texts}
    scan = {size: _best(lambda size=size: Matcher(rules).find(texts[size])) for size in texts}
    engine.dispose()
    return {
        "check_10k_ms": with_db[10_000] * 1000,
        "check_1k_ms": with_db[1_000] * 1000,
        "build_and_scan_10k_ms": scan[10_000] * 1000,
        "ratio_10k_1k": with_db[10_000] / with_db[1_000],
    }


if __name__ == "__main__":
    import tempfile

    print(run(Path(tempfile.mkdtemp(prefix="cadence-guardrails-bench-"))))
