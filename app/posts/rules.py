"""The platforms' rules on a post, run while no database transaction is open.

A platform's `validate` needs no database and its cost grows with the text; on SQLite
the first statement of a request's session takes the write lock (BEGIN IMMEDIATE),
so validating inside it would stall every other writer for as long as it runs. A
write therefore goes in three steps:

1. plan: the service resolves the post in a read phase and records, per channel, the
   `(platform, request)` pairs to check (`PlatformRules.problems` answers nothing yet);
2. `run_outside_transaction`: the read phase is committed, then every pair is checked;
3. write: the service resolves the post again in the write transaction and looks each
   answer up. A pair not seen in step 1 means the post's channels, media or
   objectives changed in between: 409, send it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.errors import Conflict
from connectors.base import Problem, PublishRequest
from connectors.registry import Platform, channel_platform


@dataclass
class PlatformRules:
    """Platform answers by (platform, content): what a platform reads of a post, without
    its ids, so posts with the same text in a batch are checked once."""

    # inline: validate at once (for callers without a read phase of their own).
    inline: bool = False
    _answers: dict[tuple[object, ...], list[Problem]] = field(default_factory=dict)
    _planned: dict[tuple[object, ...], tuple[Platform, PublishRequest]] = field(
        default_factory=dict
    )
    _ran: bool = False

    def problems(
        self,
        platform: str,
        content: tuple[object, ...],
        request: Callable[[], PublishRequest],
        config: Mapping[str, Any] | None = None,
    ) -> list[Problem]:
        """`config`: the channel's, for rules a channel sets (a Mastodon instance's own
        text limit, which is then part of the key)."""
        rules = channel_platform(platform, config)
        key = (platform, rules.limits.text, *content)
        if key in self._answers:
            return self._answers[key]
        if self.inline:
            self._answers[key] = rules.validate(request())
            return self._answers[key]
        if not self._ran:
            self._planned[key] = (rules, request())
            return []
        raise Conflict(
            "the post's channels, media or objectives changed while it was being "
            "checked; send it again"
        )

    def run(self) -> None:
        for key, (rules, request) in self._planned.items():
            self._answers[key] = rules.validate(request)
        self._ran = True


def run_outside_transaction(
    session: Session, plan: Callable[[PlatformRules], object]
) -> PlatformRules:
    """Plan in the session's current (read) transaction, end it, then run the rules."""
    rules = PlatformRules()
    plan(rules)
    # The read phase ends here (the request's session begins a new transaction on its
    # next statement): nothing is locked while the rules run.
    session.commit()
    rules.run()
    # The write phase reads everything afresh: rows may have changed since the plan.
    session.expire_all()
    return rules
