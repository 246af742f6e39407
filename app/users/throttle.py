"""Login throttling: a growing delay per (e-mail, client address), kept in the database.

Every attempt that does not succeed counts: wrong passwords and attempts refused
while a delay runs. After FREE_FAILURES of them, the next attempt must wait
2^(failures - FREE_FAILURES) seconds after the last one, at most MAX_DELAY. A
success forgets the pair; a pair left alone for FORGET_AFTER starts afresh.

Keyed by e-mail *and* address, so a stranger guessing from elsewhere never delays the
person's own logins. The count lives in one row per pair, locked (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers) from the check
until the request's transaction ends, and counted *before* the password is checked:
concurrent guesses, from one or several `cadence serve` processes, are each counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.users.models import LoginAttempt

FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)


def delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    exponent = failures - FREE_FAILURES
    # 2^10 s is past the cap already; keep the number small.
    return min(timedelta(seconds=2 ** min(exponent, 10)), MAX_DELAY)


def _key(email: str, address: str) -> tuple[str, str]:
    return email.strip().lower()[:320], address[:64]


def _insert(session: Session) -> Any:
    """INSERT with ON CONFLICT, which both backends have but SQLAlchemy spells per dialect."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def count_attempt(session: Session, *, email: str, address: str, now: datetime) -> int | None:
    """Count one login attempt; when it must wait, the seconds to wait (Retry-After).

    None: go on and check the password. Call before checking it, in the transaction
    that ends the attempt (committed either way); `succeeded` forgets the count.
    """
    key_email, key_address = _key(email, address)
    session.execute(
        _insert(session)(LoginAttempt)
        .values(email=key_email, address=key_address, failures=0, last_failure_at=now)
        .on_conflict_do_nothing()
    )
    row = session.execute(
        select(LoginAttempt.failures, LoginAttempt.last_failure_at)
        .where(LoginAttempt.email == key_email, LoginAttempt.address == key_address)
        .with_for_update()
    ).one()
    failures, last = row.failures, row.last_failure_at
    if now - last >= FORGET_AFTER:
        failures = 0
    until = last + delay_after(failures)
    counted = session.execute(
        update(LoginAttempt)
        .where(LoginAttempt.email == key_email, LoginAttempt.address == key_address)
        .values(failures=failures + 1, last_failure_at=now)
        .returning(LoginAttempt.failures)
    ).scalar_one()
    if failures >= FREE_FAILURES and now < until:
        return max(1, int(delay_after(counted).total_seconds()))
    return None


def succeeded(session: Session, *, email: str, address: str, now: datetime) -> None:
    key_email, key_address = _key(email, address)
    session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.email == key_email, LoginAttempt.address == key_address
        )
    )
    # Pairs nobody has tried for a day: keep the table small.
    session.execute(delete(LoginAttempt).where(LoginAttempt.last_failure_at < now - FORGET_AFTER))
