"""The state machine's guards, and that it stays the only writer of delivery status."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.posts.models import Delivery, DeliveryStatus
from app.publishing import transitions
from app.publishing.transitions import IllegalTransition
from connectors.base import Ambiguous, OutcomeKind, PublishError, RateLimited

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
APP = Path(__file__).resolve().parents[2] / "app"

# A write of a delivery's status: `delivery.status = ...`, `status=DeliveryStatus...`,
# `"status": DeliveryStatus...`, or an UPDATE of deliveries setting status.
WRITES = [
    re.compile(r"\b(delivery|d|row)\.status\s*=[^=]"),
    re.compile(r"\bstatus\s*=\s*DeliveryStatus\."),
    re.compile(r"[\"']status[\"']\s*:\s*DeliveryStatus\."),
    re.compile(r"update\(Delivery[^)]*\)[^;]{0,200}?\.values\([^)]*\bstatus\b"),
]


def test_only_the_transitions_module_writes_delivery_status() -> None:
    offenders = []
    for path in APP.rglob("*.py"):
        if path.name == "transitions.py":
            continue
        source = path.read_text()
        for pattern in WRITES:
            for match in pattern.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(APP.parent)}:{line}: {match.group(0)!r}")
    assert offenders == []


def test_the_grep_would_catch_a_write() -> None:
    assert WRITES[0].search("    delivery.status = DeliveryStatus.failed")
    assert WRITES[1].search("Delivery(status=DeliveryStatus.scheduled)")
    assert not WRITES[0].search("if delivery.status == DeliveryStatus.failed:")


def delivery(status: str, owner: str | None = None) -> Delivery:
    return Delivery(id="d1", status=status, lease_owner=owner, attempts=0)


def test_outcomes_need_the_lease_but_a_late_success_is_kept() -> None:
    ours = transitions.fail(
        owner="w1", attempts=1, kind=OutcomeKind.permanent, message="no", now=NOW
    )
    assert ours.allows(DeliveryStatus.publishing, "w1")
    assert not ours.allows(DeliveryStatus.publishing, "w2")
    assert not ours.allows(DeliveryStatus.unknown, None)
    late = transitions.succeed(
        owner="w1", attempts=1, published_at=NOW, external_id="1", permalink=None, now=NOW
    )
    assert late.allows(DeliveryStatus.unknown, None)
    assert not late.allows(DeliveryStatus.publishing, "w2")
    assert not late.allows(DeliveryStatus.failed, None)


def test_an_illegal_transition_raises_instead_of_writing() -> None:
    row = delivery(DeliveryStatus.published)
    with pytest.raises(IllegalTransition, match="cannot reset for retry from published"):
        transitions.apply(row, transitions.reset_for_retry(now=NOW))
    assert row.status == DeliveryStatus.published
    with pytest.raises(IllegalTransition):
        transitions.apply(delivery(DeliveryStatus.publishing), transitions.cancel(now=NOW))


def test_claim_and_reset_write_their_columns() -> None:
    row = delivery(DeliveryStatus.scheduled)
    transitions.apply(row, transitions.claim(owner="w1", lease_until=NOW, now=NOW))
    assert (row.status, row.lease_owner, row.lease_expires_at) == ("publishing", "w1", NOW)
    row = delivery(DeliveryStatus.unknown)
    transitions.apply(row, transitions.reset_for_retry(now=NOW))
    assert (row.status, row.attempts, row.next_attempt_at, row.lease_owner) == (
        "scheduled",
        0,
        NOW,
        None,
    )


def test_every_connector_error_kind_is_an_outcome_kind() -> None:
    kinds = {cls.kind for cls in (PublishError, *PublishError.__subclasses__())}
    assert all(isinstance(k, OutcomeKind) for k in kinds)
    assert RateLimited.kind == "rate_limited" and Ambiguous.kind == OutcomeKind.ambiguous
