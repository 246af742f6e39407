"""What a channel check may say: Cadence's words for a comms person, never the server's.

A check talks to whatever server the channel names. If its answer carried what that
server said (a body, an SMTP banner, a header, the status of a HEAD request), an admin
could use the check to read other machines. So a failed check is told from the error
kind alone, naming at most the host the channel points at.
"""

from __future__ import annotations

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    Permanent,
    PublishError,
    RateLimited,
    Transient,
)
from connectors.checks import refused
from connectors.http import ADDRESS_NOT_ALLOWED, NotConnected


def check_failed(exc: PublishError, *, label: str, host: str) -> CheckResult:
    """The answer for a check that raised `exc` while talking to `host` (a host name)."""
    if isinstance(exc, AuthExpired):
        return refused(f"{label} refused the credentials: reconnect the channel")
    if isinstance(exc, Permanent) and exc.code == ADDRESS_NOT_ALLOWED:
        return CheckResult(ok=False, detail=exc.message)  # Cadence's own words
    if isinstance(exc, NotConnected):
        return CheckResult(ok=False, detail=f"could not connect to {exc.host}")
    if isinstance(exc, RateLimited):
        return CheckResult(
            ok=False, detail=f"{label} asks Cadence to slow down: try the check again later"
        )
    if isinstance(exc, Ambiguous):
        return CheckResult(ok=False, detail=f"{host} took the connection but did not answer")
    if isinstance(exc, Transient):
        return CheckResult(
            ok=False, detail=f"{label} has a temporary problem: try the check again later"
        )
    return CheckResult(
        ok=False, detail=f"{label} did not accept the check: look at the channel's settings"
    )


def unexpected_answer(label: str) -> CheckResult:
    """The server answered, but not as the platform does."""
    return CheckResult(
        ok=False,
        detail=f"the server did not answer as {label} does: look at the channel's settings",
    )


def shown_name(value: object, limit: int = 80) -> str:
    """An account name from a platform's answer, on one line and cut short."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
