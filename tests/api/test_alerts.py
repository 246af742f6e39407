"""Alerts: opened once per subject, listed by status, acknowledged by a person."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.alerts.models import Alert, AlertKind
from app.alerts.service import open_alert, resolve_alert
from app.clock import FrozenClock
from app.db import transaction
from app.runtime import Runtime
from tests.helpers import API, locs, objective, total

DAY = date(2026, 11, 24)


def _open(runtime: Runtime, kind: AlertKind, key: str, **fields: Any) -> str | None:
    with transaction(runtime.sessions) as session:
        return open_alert(
            session,
            kind=kind,
            key=key,
            message=fields.pop("message", f"{kind.value} {key}"),
            now=runtime.clock.now(),
            **fields,
        )


def _resolve(runtime: Runtime, kind: AlertKind, key: str) -> str | None:
    with transaction(runtime.sessions) as session:
        return resolve_alert(session, kind=kind, key=key, now=runtime.clock.now())


def _rows(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Alert)) or 0


def _list(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/alerts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return page["items"]  # type: ignore[no-any-return]


def test_open_is_deduplicated_until_resolved(
    client: TestClient,
    admin: dict[str, str],
    viewer: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    obj = objective(client, admin)
    key = f"{obj['id']}:{DAY.isoformat()}"
    first = _open(
        runtime,
        AlertKind.objective_uncovered,
        key,
        objective_id=obj["id"],
        day=DAY,
        message="Support and information has 0 of 1 posts on 2026-11-24",
    )
    assert first is not None
    clock.advance(minutes=10)
    assert (
        _open(runtime, AlertKind.objective_uncovered, key, objective_id=obj["id"], day=DAY) is None
    )
    assert _rows(runtime) == 1
    # Another kind or another day is another alert.
    missed = _open(runtime, AlertKind.objective_missed, key, objective_id=obj["id"], day=DAY)
    assert missed is not None
    assert _rows(runtime) == 2

    [opened, _] = sorted(
        _list(client, viewer, status="open"), key=lambda a: a["kind"] != "objective_uncovered"
    )
    assert opened["id"] == first
    assert opened["kind"] == "objective_uncovered"
    assert opened["status"] == "open"
    assert opened["objective_id"] == obj["id"]
    assert opened["day"] == "2026-11-24"
    assert opened["message"] == "Support and information has 0 of 1 posts on 2026-11-24"
    assert opened["opened_at"] == "2026-11-23T09:00:00Z"  # the first opening stands
    assert opened["acknowledged_at"] is None
    assert opened["resolved_at"] is None

    clock.advance(minutes=5)
    assert _resolve(runtime, AlertKind.objective_uncovered, key) == first
    assert _resolve(runtime, AlertKind.objective_uncovered, key) is None  # already resolved
    resolved = _list(client, viewer, status="resolved")
    assert [a["id"] for a in resolved] == [first]
    assert resolved[0]["status"] == "resolved"
    assert resolved[0]["resolved_at"] == "2026-11-23T09:15:00Z"
    assert [a["id"] for a in _list(client, viewer, status="open")] == [missed]

    # Once resolved, the same subject can open again: a new row.
    again = _open(runtime, AlertKind.objective_uncovered, key, objective_id=obj["id"], day=DAY)
    assert again is not None and again != first
    assert _rows(runtime) == 3
    assert {a["id"] for a in _list(client, viewer, status="open")} == {missed, again}
    assert total(client, viewer, "/alerts") == 3
    assert total(client, viewer, "/alerts", kind="objective_missed") == 1


def test_list_order_and_pagination(
    client: TestClient, viewer: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    ids = []
    for i in range(4):
        ids.append(_open(runtime, AlertKind.delivery_failed, f"d{i}"))
        clock.advance(minutes=1)
    _resolve(runtime, AlertKind.delivery_failed, "d3")
    listed = [a["id"] for a in _list(client, viewer)]
    # Unresolved first, newest first.
    assert listed == [ids[2], ids[1], ids[0], ids[3]]
    page = client.get(f"{API}/alerts", params={"limit": 2, "offset": 1}, headers=viewer).json()
    assert page["total"] == 4
    assert [a["id"] for a in page["items"]] == [ids[1], ids[0]]


def test_acknowledge(
    client: TestClient,
    editor: dict[str, str],
    viewer: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    alert_id = _open(runtime, AlertKind.delivery_unknown, "some-delivery")
    clock.advance(hours=1)
    refused = client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=viewer)
    assert refused.status_code == 403
    assert _list(client, viewer, status="open")[0]["id"] == alert_id

    response = client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=editor)
    assert response.status_code == 200, response.text
    acknowledged = response.json()
    assert acknowledged["id"] == alert_id
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_at"] == "2026-11-23T10:00:00Z"
    assert acknowledged["acknowledged_by_id"]
    assert acknowledged["resolved_at"] is None
    assert _list(client, viewer, status="open") == []
    assert _list(client, viewer, status="acknowledged") == [acknowledged]

    # Acknowledging twice is harmless and keeps the first acknowledgement.
    clock.advance(hours=1)
    again = client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=editor)
    assert again.status_code == 200
    assert again.json() == acknowledged

    # An acknowledged alert is still unresolved: opening the subject again does nothing.
    assert _open(runtime, AlertKind.delivery_unknown, "some-delivery") is None
    # Resolving it works, and then it can no longer be acknowledged.
    assert _resolve(runtime, AlertKind.delivery_unknown, "some-delivery") == alert_id
    response = client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=editor)
    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]
    [resolved] = _list(client, viewer, status="resolved")
    assert resolved["status"] == "resolved"
    assert resolved["acknowledged_at"] == "2026-11-23T10:00:00Z"


def test_unknown_alert_is_404(client: TestClient, editor: dict[str, str]) -> None:
    response = client.post(f"{API}/alerts/nope/acknowledge", headers=editor)
    assert response.status_code == 404
    assert response.json() == {"detail": "alert nope not found"}


def test_bad_filters(client: TestClient, viewer: dict[str, str]) -> None:
    for params, loc in (
        ({"status": "closed"}, "query.status"),
        ({"kind": "something"}, "query.kind"),
        ({"limit": 0}, "query.limit"),
    ):
        response = client.get(f"{API}/alerts", params=params, headers=viewer)
        assert response.status_code == 422
        assert locs(response) == [loc]


def test_alerts_for_many_days_are_distinct(
    client: TestClient, admin: dict[str, str], viewer: dict[str, str], runtime: Runtime
) -> None:
    obj = objective(client, admin)
    for offset in range(7):
        day = DAY + timedelta(days=offset)
        assert _open(
            runtime,
            AlertKind.objective_uncovered,
            f"{obj['id']}:{day.isoformat()}",
            objective_id=obj["id"],
            day=day,
        )
    assert sorted(a["day"] for a in _list(client, viewer, status="open")) == [
        (DAY + timedelta(days=i)).isoformat() for i in range(7)
    ]
