"""Check results that say the platform refused the credentials.

A connector's `check()` answers a CheckResult rather than raising, so a refused
credential (AuthExpired when publishing) is told apart from a platform that is down
by `CheckResult.credentials_refused`; the app then marks the channel
`needs_reconnect`, as the dispatcher does when a publish raises AuthExpired.
"""

from __future__ import annotations

from connectors.base import CheckResult


def refused(detail: str) -> CheckResult:
    return CheckResult(ok=False, detail=detail, credentials_refused=True)


def credentials_refused(result: CheckResult) -> bool:
    return not result.ok and result.credentials_refused
