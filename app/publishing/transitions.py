"""The delivery state machine: every change of a delivery's status, defined once.

This module is the only writer of `deliveries.status` (a test greps the source tree to
keep it so). Each transition is a function returning a `Change`: the statuses it may
start from (its guard) and the column values it writes. A `Change` is applied the same
way to an ORM row (`apply`) or as one Core UPDATE over many rows (`update_ids`,
`update_many`), so the ORM path and the bulk path cannot drift apart.

Exactly-once rules, state x event -> new state ("ours": the row's lease is this
worker's; every other guard is checked by the caller before the transition):

  from                    event            to          guard                    recorded on the row
  ----------------------  ---------------  ----------  -----------------------  ---------------------------
  new, draft, scheduled,  schedule         scheduled   no delivery of the post  attempts 0, next_attempt_at
  retrying, failed                         (or draft)  is or may be out         = post time; lease, error
                                                                                cleared
  scheduled, retrying     claim            publishing  due; channel under its   lease owner and expiry;
                                                       in-flight limit; row     committed before any call
                                                       not locked (SKIP LOCKED)
  publishing (ours),      succeed          published   ours; or a late success  attempts+1, published_at,
  unknown                                              after unknown            external id, permalink;
                                                                                error, lease cleared
  publishing (ours)       retry later      retrying    transient, attempts      attempts+1, next attempt =
                                                       left                     now + backoff, error
  publishing (ours)       rate limited     retrying    the platform said wait   attempts kept, next attempt
                          (retry later)                                         = the platform's reset
  publishing (ours)       fail             failed      nothing went out:        attempts+1, error kind and
                                                       refused, gave up, or a   message; lease cleared
                                                       failure before the call
  publishing (ours)       mark unknown     unknown     the call may have gone   attempts+1, kind ambiguous;
                                                       out (hang, crash, bug)   lease cleared
  publishing (any)        recover lease    unknown     lease expired: its       attempts+1, kind ambiguous;
                                                       worker stopped           lease cleared
  scheduled, retrying     miss window,     failed      found too late; channel  error kind and message;
                          refuse                       unusable; internal only  attempts kept
  draft (post pending     miss approval    failed      its time passed while    error kind missed_window
  approval)                                            it waited for approval   and message; attempts kept
  draft, scheduled,       cancel           cancelled   the post is not out      next attempt cleared
  retrying
  failed, unknown         reset for retry  scheduled   a person asks; the post  attempts 0, next attempt =
                                                       is scheduled             now; lease cleared
  publishing (ours)       wait for         waiting     auth_expired: the        attempts+1, error; next
                          reconnect                    channel needs            attempt = the grace's end
                                                       reconnecting             (CADENCE_RECONNECT_GRACE_HOURS)
  scheduled, retrying     hold for         waiting     due on a channel that    error; next attempt = the
                          reconnect                    needs reconnecting       grace's end; attempts kept
  waiting                 resume           scheduled   the channel was          next attempt = now; error
                                                       reconnected in time      cleared
  waiting                 give up waiting  failed      the grace ended first    error kind auth_expired

Waiting may also be scheduled anew (an edit) or cancelled, like scheduled.
Published, failed and cancelled are final for the engine; only a person leaves failed
or unknown (reset for retry). Alerts and the attempt history are written alongside by
`outcomes`; what a transition writes to the delivery row is here only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, literal_column, or_, update
from sqlalchemy.orm import Session

from app.posts.models import PENDING, Delivery, DeliveryStatus
from connectors.base import OutcomeKind

S = DeliveryStatus


class IllegalTransition(RuntimeError):
    """A transition was applied to a delivery whose state does not allow it (a bug)."""


@dataclass(frozen=True)
class Change:
    """One transition's writes to a delivery row, and the states it may start from.

    `owner`: when set, a delivery that is `publishing` must hold this worker's lease,
    so a worker whose lease was taken over cannot overwrite what a person now sees.
    """

    name: str
    sources: frozenset[DeliveryStatus | None]
    values: Mapping[str, Any]
    owner: str | None = None

    @property
    def target(self) -> DeliveryStatus:
        return DeliveryStatus(self.values["status"])

    def allows(self, status: str | None, lease_owner: str | None) -> bool:
        if status not in self.sources:
            return False
        return self.owner is None or status != S.publishing or lease_owner == self.owner

    def guard(self) -> ColumnElement[bool]:
        """The same guard as `allows`, as SQL; the lease owner is the parameter `_owner`."""
        return _guard(self.sources, self.owner is not None)

    def params(self) -> dict[str, Any]:
        """The parameters of `guard` and of the UPDATE's values (see `_update`)."""
        found = {f"_{c}": v for c, v in self.values.items()}
        if self.owner is not None:
            found["_owner"] = self.owner
        return found


@lru_cache(maxsize=64)
def _guard(sources: frozenset[DeliveryStatus | None], owned: bool) -> ColumnElement[bool]:
    # Written out, not bound: the planner can use the partial indexes, and these are
    # our own enum values.
    names = sorted(s.value for s in sources if s is not None)
    condition: ColumnElement[bool] = Delivery.status.in_([literal_column(f"'{n}'") for n in names])
    if owned:
        condition = and_(
            condition,
            or_(
                Delivery.status != literal_column(f"'{S.publishing.value}'"),
                Delivery.lease_owner == bindparam("_owner"),
            ),
        )
    return condition


@lru_cache(maxsize=64)
def _update(
    sources: frozenset[DeliveryStatus | None], owned: bool, columns: tuple[str, ...], many: bool
) -> Any:
    """The UPDATE of one transition, built once: by `_id` (for executemany) or for the
    list of ids `ids`. Values are parameters named `_<column>`."""
    table = Delivery.__table__
    by_id = (
        table.c.id == bindparam("_id") if many else table.c.id.in_(bindparam("ids", expanding=True))
    )
    return (
        update(table)  # type: ignore[arg-type]
        .where(by_id, _guard(sources, owned))
        .values({c: bindparam(f"_{c}") for c in columns})
    )


def _statement(change: Change, *, many: bool) -> Any:
    return _update(change.sources, change.owner is not None, tuple(change.values), many)


def apply(delivery: Delivery, change: Change) -> None:
    """Apply `change` to an ORM row; raises IllegalTransition if its guard refuses."""
    status = delivery.status if delivery.status is None else DeliveryStatus(delivery.status)
    if not change.allows(status, delivery.lease_owner):
        raise IllegalTransition(
            f"delivery {delivery.id}: cannot {change.name} from {delivery.status}"
        )
    for column, value in change.values.items():
        setattr(delivery, column, value)


def new_delivery(change: Change, **columns: Any) -> Delivery:
    """A new delivery row in the state `change` (a schedule) leads to."""
    if None not in change.sources:
        raise IllegalTransition(f"a new delivery cannot start with {change.name}")
    return Delivery(**columns, **change.values)


def update_ids(session: Session, change: Change, ids: Sequence[str]) -> int:
    """Apply `change` to every delivery in `ids` that its guard allows, in one UPDATE.

    Returns how many rows changed.
    """
    if not ids:
        return 0
    result = session.connection().execute(
        _statement(change, many=False), {"ids": list(ids), **change.params()}
    )
    return int(result.rowcount or 0)


def update_many(session: Session, changes: Sequence[tuple[str, Change]]) -> int:
    """Apply per-row changes of one transition as one executemany UPDATE.

    Every change must be of the same transition (same columns and guard); each row's
    guard is in its WHERE, so a row that left its source state meanwhile is untouched.
    Returns how many rows changed.
    """
    if not changes:
        return 0
    first = changes[0][1]
    rows = []
    for delivery_id, change in changes:
        if change.name != first.name or change.values.keys() != first.values.keys():
            raise IllegalTransition("update_many takes changes of one transition")
        rows.append({"_id": delivery_id, **change.params()})
    result = session.connection().execute(_statement(first, many=True), rows)
    return int(result.rowcount or 0)


# -- the transitions ----------------------------------------------------------------

_CLEAR_LEASE = {"lease_owner": None, "lease_expires_at": None}


def schedule(*, scheduled: bool, at: datetime | None, now: datetime) -> Change:
    """A post written or edited: its deliveries wait for their time (or stay drafts)."""
    return Change(
        "schedule",
        frozenset({None, S.draft, S.scheduled, S.retrying, S.failed, S.waiting}),
        {
            "status": S.scheduled if scheduled else S.draft,
            "attempts": 0,
            "next_attempt_at": at if scheduled else None,
            "last_error": None,
            "error_kind": None,
            "updated_at": now,
            **_CLEAR_LEASE,
        },
    )


def claim(*, owner: str, lease_until: datetime, now: datetime) -> Change:
    return Change(
        "claim",
        frozenset(PENDING),
        {
            "status": S.publishing,
            "lease_owner": owner,
            "lease_expires_at": lease_until,
            "updated_at": now,
        },
    )


def succeed(
    *,
    owner: str,
    attempts: int,
    published_at: datetime,
    external_id: str | None,
    permalink: str | None,
    now: datetime,
) -> Change:
    """The platform took it. Also from unknown: a late success is news worth keeping."""
    return Change(
        "succeed",
        frozenset({S.publishing, S.unknown}),
        {
            "status": S.published,
            "attempts": attempts,
            "published_at": published_at,
            "external_id": external_id,
            "permalink": permalink,
            "last_error": None,
            "error_kind": None,
            "next_attempt_at": None,
            "updated_at": now,
            **_CLEAR_LEASE,
        },
        owner=owner,
    )


def retry_later(
    *,
    owner: str,
    attempts: int,
    at: datetime,
    kind: OutcomeKind,
    message: str,
    now: datetime,
) -> Change:
    """Nothing went out and a later attempt may work (transient; rate limited keeps attempts)."""
    return Change(
        "retry later",
        frozenset({S.publishing}),
        {
            "status": S.retrying,
            "attempts": attempts,
            "next_attempt_at": at,
            "last_error": message,
            "error_kind": kind,
            "updated_at": now,
            **_CLEAR_LEASE,
        },
        owner=owner,
    )


def _settle(
    name: str,
    sources: Iterable[DeliveryStatus],
    status: DeliveryStatus,
    *,
    attempts: int,
    kind: OutcomeKind,
    message: str,
    now: datetime,
    owner: str | None,
) -> Change:
    return Change(
        name,
        frozenset(sources),
        {
            "status": status,
            "attempts": attempts,
            "error_kind": kind,
            "last_error": message,
            "next_attempt_at": None,
            "updated_at": now,
            **_CLEAR_LEASE,
        },
        owner=owner,
    )


def fail(*, owner: str, attempts: int, kind: OutcomeKind, message: str, now: datetime) -> Change:
    """Nothing went out and trying again alone will not help."""
    return _settle(
        "fail",
        {S.publishing},
        S.failed,
        attempts=attempts,
        kind=kind,
        message=message,
        now=now,
        owner=owner,
    )


def mark_unknown(*, owner: str, attempts: int, message: str, now: datetime) -> Change:
    """The call may have reached the platform: a person decides."""
    return _settle(
        "mark unknown",
        {S.publishing},
        S.unknown,
        attempts=attempts,
        kind=OutcomeKind.ambiguous,
        message=message,
        now=now,
        owner=owner,
    )


def recover_lease(*, attempts: int, message: str, now: datetime) -> Change:
    """Its worker stopped answering mid-publish: the outcome is unknown."""
    return _settle(
        "recover lease",
        {S.publishing},
        S.unknown,
        attempts=attempts,
        kind=OutcomeKind.ambiguous,
        message=message,
        now=now,
        owner=None,
    )


def refuse(*, attempts: int, kind: OutcomeKind, message: str, now: datetime) -> Change:
    """Found due but must not go out (missed its window, channel unusable, internal only)."""
    return _settle(
        "miss window" if kind == OutcomeKind.missed_window else "refuse",
        PENDING,
        S.failed,
        attempts=attempts,
        kind=kind,
        message=message,
        now=now,
        owner=None,
    )


def miss_approval(*, message: str, now: datetime) -> Change:
    """A post's time passed while it waited for approval (app/team/approval.py): its
    deliveries, drafts meanwhile, end as a missed window, like any post found too late."""
    return Change(
        "miss approval",
        frozenset({S.draft}),
        {
            "status": S.failed,
            "error_kind": OutcomeKind.missed_window,
            "last_error": message,
            "next_attempt_at": None,
            "updated_at": now,
        },
    )


def cancel(*, now: datetime) -> Change:
    return Change(
        "cancel",
        frozenset({S.draft, S.scheduled, S.retrying, S.waiting}),
        {"status": S.cancelled, "next_attempt_at": None, "updated_at": now},
    )


def reset_for_retry(*, now: datetime) -> Change:
    """A person asks for another try of a failed or unknown delivery, now."""
    return Change(
        "reset for retry",
        frozenset({S.failed, S.unknown}),
        {
            "status": S.scheduled,
            "attempts": 0,
            "next_attempt_at": now,
            "updated_at": now,
            **_CLEAR_LEASE,
        },
    )


# -- connecting accounts: deliveries waiting for a reconnect --------------------------


def wait_for_reconnect(
    *, owner: str, attempts: int, until: datetime, message: str, now: datetime
) -> Change:
    """The platform refused the channel's credentials: nothing went out; wait for a
    reconnect until `until`."""
    return Change(
        "wait for reconnect",
        frozenset({S.publishing}),
        {
            "status": S.waiting,
            "attempts": attempts,
            "next_attempt_at": until,
            "last_error": message,
            "error_kind": OutcomeKind.auth_expired,
            "updated_at": now,
            **_CLEAR_LEASE,
        },
        owner=owner,
    )


def hold_for_reconnect(*, until: datetime, message: str, now: datetime) -> Change:
    """Found due on a channel that needs reconnecting: wait for it until `until`."""
    return Change(
        "hold for reconnect",
        frozenset(PENDING),
        {
            "status": S.waiting,
            "next_attempt_at": until,
            "last_error": message,
            "error_kind": OutcomeKind.auth_expired,
            "updated_at": now,
        },
    )


def resume(*, now: datetime) -> Change:
    """The channel was reconnected within the grace: the delivery is due now."""
    return Change(
        "resume",
        frozenset({S.waiting}),
        {
            "status": S.scheduled,
            "next_attempt_at": now,
            "last_error": None,
            "error_kind": None,
            "updated_at": now,
        },
    )


def give_up_waiting(*, message: str, now: datetime) -> Change:
    """The grace ended before anyone reconnected the channel."""
    return Change(
        "give up waiting",
        frozenset({S.waiting}),
        {
            "status": S.failed,
            "error_kind": OutcomeKind.auth_expired,
            "last_error": message,
            "next_attempt_at": None,
            "updated_at": now,
        },
    )
