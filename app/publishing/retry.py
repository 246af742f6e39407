"""Backoff for transient failures: exponential, capped, with jitter."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(attempt: int, *, base: float, cap: float, rng: random.Random) -> timedelta:
    """Delay before attempt `attempt + 1`: base * 2^(attempt-1), capped, then jittered.

    "Equal jitter": half the delay is fixed, half random, so retries of posts that
    failed together spread out without ever coming back sooner than half the delay.
    """
    delay = min(cap, base * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=delay / 2 + rng.uniform(0, delay / 2))
