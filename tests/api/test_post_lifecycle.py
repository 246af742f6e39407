"""After creation: the calendar, editing, cancelling, derived statuses, retrying."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from app.clock import FrozenClock
from app.db import transaction
from app.posts.models import Delivery
from app.runtime import Runtime
from tests.helpers import (
    API,
    LATER,
    as_read,
    locs,
    objective,
    post,
    row_counts,
    scheduled_post,
    set_deliveries,
    total,
    webhook_channel,
    x_channel,
)


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "other_objective": objective(client, admin, name="Fundraising events")["id"],
        "hook": webhook_channel(client, admin)["id"],
        "hook2": webhook_channel(client, admin, name="Second hook")["id"],
        "x": x_channel(client, admin)["id"],
    }


def _get(client: TestClient, headers: dict[str, str], post_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/posts/{post_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _calendar(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get(f"{API}/posts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return [p["id"] for p in page["items"]]


# --- The calendar ---------------------------------------------------------------------


def test_calendar_range_filters_and_order(
    client: TestClient, editor: dict[str, str], viewer: dict[str, str], world: dict[str, Any]
) -> None:
    obj, other = world["objective"], world["other_objective"]
    late = scheduled_post(client, editor, obj, [world["hook"]], when="2026-11-26T12:00:00Z")
    early = scheduled_post(client, editor, obj, [world["x"]], when="2026-11-24T08:00:00Z")
    edge = scheduled_post(client, editor, other, [world["hook"]], when="2026-11-25T00:00:00Z")
    mid = scheduled_post(
        client, editor, other, [world["hook2"]], when="2026-11-25T09:00:00+01:00"
    )  # 08:00Z
    draft = post(client, editor, text="idea", status="draft", objective_ids=[obj])
    cancelled = scheduled_post(client, editor, obj, [world["hook"]], when="2026-11-25T12:00:00Z")
    client.delete(f"{API}/posts/{cancelled['id']}", headers=editor)

    everything = _calendar(client, viewer)
    # Ordered by time; posts without a time (drafts) last.
    assert everything == [
        early["id"],
        edge["id"],
        mid["id"],
        cancelled["id"],
        late["id"],
        draft["id"],
    ]
    # from is inclusive, to exclusive.
    window = {"from": "2026-11-25T00:00:00Z", "to": "2026-11-26T12:00:00Z"}
    assert _calendar(client, viewer, **window) == [edge["id"], mid["id"], cancelled["id"]]
    assert _calendar(client, viewer, **{"from": "2026-11-25T01:00:00+01:00"}) == [
        edge["id"],
        mid["id"],
        cancelled["id"],
        late["id"],
    ]
    assert _calendar(client, viewer, to="2026-11-25T00:00:00Z") == [early["id"]]
    assert _calendar(client, viewer, objective_id=other) == [edge["id"], mid["id"]]
    assert _calendar(client, viewer, channel_id=world["hook"]) == [
        edge["id"],
        cancelled["id"],
        late["id"],
    ]
    assert _calendar(client, viewer, channel_id=world["x"], objective_id=obj) == [early["id"]]
    assert _calendar(client, viewer, status="draft") == [draft["id"]]
    assert _calendar(client, viewer, status="cancelled") == [cancelled["id"]]
    assert _calendar(client, viewer, status="scheduled", **window) == [edge["id"], mid["id"]]
    assert _calendar(client, viewer, objective_id="no-such-objective") == []
    page = client.get(f"{API}/posts", params={"limit": 2, "offset": 1}, headers=viewer).json()
    assert page["total"] == 6
    assert [p["id"] for p in page["items"]] == [edge["id"], mid["id"]]


def test_calendar_bad_parameters(client: TestClient, viewer: dict[str, str]) -> None:
    for params, loc in (
        ({"from": "2026-11-25T00:00:00"}, "query.from"),
        ({"to": "2026-11-25"}, "query.to"),
        ({"from": "yesterday"}, "query.from"),
        ({"from": "9999-12-31T23:59:59-14:00"}, "query.from"),
        ({"status": "lost"}, "query.status"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 1001}, "query.limit"),
    ):
        response = client.get(f"{API}/posts", params=params, headers=viewer)
        assert response.status_code == 422, (params, response.text)
        assert locs(response) == [loc]


def test_patch_text_and_time_moves_the_deliveries(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], clock: FrozenClock
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"], world["x"]])
    clock.advance(minutes=10)
    response = client.patch(
        f"{API}/posts/{created['id']}",
        json={"text": "Moved to Friday", "scheduled_at": "2026-11-27T18:00:00+02:00"},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["text"] == "Moved to Friday"
    assert updated["scheduled_at"] == "2026-11-27T16:00:00Z"
    assert updated["updated_at"] == "2026-11-23T09:10:00Z"
    assert updated["created_at"] == "2026-11-23T09:00:00Z"
    # Deliveries keep their ids (the idempotency key) and follow the new time.
    assert sorted(d["id"] for d in updated["deliveries"]) == sorted(
        d["id"] for d in created["deliveries"]
    )
    for delivery in updated["deliveries"]:
        assert delivery["next_attempt_at"] == "2026-11-27T16:00:00Z"
        assert delivery["status"] == "scheduled"
    assert _get(client, editor, created["id"]) == as_read(updated)
    assert _calendar(client, editor, to="2026-11-27T00:00:00Z") == []


def test_patch_channels_adds_and_removes_deliveries(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"], world["x"]])
    kept = next(d for d in created["deliveries"] if d["channel_id"] == world["hook"])
    response = client.patch(
        f"{API}/posts/{created['id']}",
        json={"channel_ids": [world["hook2"], world["hook"]]},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert sorted(updated["channel_ids"]) == sorted([world["hook"], world["hook2"]])
    by_channel = {d["channel_id"]: d for d in updated["deliveries"]}
    assert by_channel[world["hook"]]["id"] == kept["id"]
    assert by_channel[world["hook2"]]["status"] == "scheduled"
    assert by_channel[world["hook2"]]["next_attempt_at"] == created["scheduled_at"]
    assert row_counts(runtime)["deliveries"] == 2  # the X delivery is gone
    assert _calendar(client, editor, channel_id=world["x"]) == []


def test_patch_other_fields(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    created = scheduled_post(
        client, editor, world["objective"], [world["hook"]], title="A title", link="https://a.b/"
    )
    response = client.patch(
        f"{API}/posts/{created['id']}",
        json={
            "title": None,
            "link": None,
            "objective_ids": [world["other_objective"]],
            "internal_only": True,
        },
        headers=editor,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] is None
    assert updated["link"] is None
    assert updated["objective_ids"] == [world["other_objective"]]
    assert updated["internal_only"] is True
    assert updated["text"] == created["text"]
    assert updated["scheduled_at"] == created["scheduled_at"]


def test_patch_publish_now(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], clock: FrozenClock
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"]])
    clock.advance(minutes=3)
    response = client.patch(
        f"{API}/posts/{created['id']}", json={"publish_now": True}, headers=editor
    )
    assert response.status_code == 200, response.text
    assert response.json()["scheduled_at"] == "2026-11-23T09:03:00Z"
    assert response.json()["deliveries"][0]["next_attempt_at"] == "2026-11-23T09:03:00Z"
    both = client.patch(
        f"{API}/posts/{created['id']}",
        json={"publish_now": True, "scheduled_at": LATER},
        headers=editor,
    )
    assert both.status_code == 422
    assert locs(both) == ["body.publish_now"]


def test_draft_to_scheduled_and_back(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    draft = post(client, editor, text="idea", status="draft", channel_ids=[world["hook"]])
    refused = client.patch(
        f"{API}/posts/{draft['id']}", json={"status": "scheduled"}, headers=editor
    )
    assert refused.status_code == 422
    assert sorted(locs(refused)) == ["body.objective_ids", "body.scheduled_at"]
    assert _get(client, editor, draft["id"]) == as_read(draft)
    response = client.patch(
        f"{API}/posts/{draft['id']}",
        json={"status": "scheduled", "objective_ids": [world["objective"]], "scheduled_at": LATER},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "scheduled"
    assert response.json()["deliveries"][0]["status"] == "scheduled"
    back = client.patch(f"{API}/posts/{draft['id']}", json={"status": "draft"}, headers=editor)
    assert back.json()["status"] == "draft"
    assert back.json()["deliveries"][0]["status"] == "draft"
    assert back.json()["deliveries"][0]["next_attempt_at"] is None


def test_bad_patch_changes_nothing(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"], world["x"]])
    before = row_counts(runtime)
    # The X channel's place in the post's channel_ids, which problems refer to.
    x = created["channel_ids"].index(world["x"])
    for body, loc in (
        ({"scheduled_at": "2026-11-25T10:00:00"}, "body.scheduled_at"),
        ({"scheduled_at": "2026-11-20T10:00:00Z"}, "body.scheduled_at"),
        ({"scheduled_at": None}, "body.scheduled_at"),
        ({"text": None}, "body.text"),
        ({"objective_ids": None}, "body.objective_ids"),
        ({"channel_ids": []}, "body.channel_ids"),
        ({"channel_ids": ["nope"]}, "body.channel_ids.0"),
        ({"text": "a" * 281}, "body.text"),
        ({"internal_only": True}, f"body.channel_ids.{x}"),
        ({"status": "cancelled"}, "body.status"),
        ({"unknown": 1}, "body.unknown"),
    ):
        response = client.patch(f"{API}/posts/{created['id']}", json=body, headers=editor)
        assert response.status_code == 422, (body, response.text)
        assert loc in locs(response), (body, response.text)
    assert _get(client, editor, created["id"]) == as_read(created)
    assert row_counts(runtime) == before


def test_patch_of_a_cancelled_post_is_409(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"]])
    cancelled = client.delete(f"{API}/posts/{created['id']}", headers=editor).json()
    response = client.patch(f"{API}/posts/{created['id']}", json={"text": "x"}, headers=editor)
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]
    assert client.delete(f"{API}/posts/{created['id']}", headers=editor).status_code == 409
    assert _get(client, editor, created["id"]) == as_read(cancelled)


@pytest.mark.parametrize("locked", ["publishing", "published", "unknown"])
def test_no_edit_or_cancel_once_a_delivery_may_be_out(
    client: TestClient,
    editor: dict[str, str],
    runtime: Runtime,
    world: dict[str, Any],
    locked: str,
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"], world["x"]])
    first, second = created["deliveries"]
    set_deliveries(runtime, {first["id"]: locked})
    before = _get(client, editor, created["id"])
    rows = row_counts(runtime)
    for method, body in (
        ("PATCH", {"text": "too late"}),
        ("PATCH", {"scheduled_at": "2026-12-01T10:00:00Z"}),
        ("PATCH", {"channel_ids": [world["hook2"]]}),
        ("DELETE", None),
    ):
        response = client.request(method, f"{API}/posts/{created['id']}", json=body, headers=editor)
        assert response.status_code == 409, (method, response.text)
        assert locked in response.json()["detail"]
    after = _get(client, editor, created["id"])
    assert after == before
    assert {d["id"]: d["status"] for d in after["deliveries"]} == {
        first["id"]: locked,
        second["id"]: "scheduled",
    }
    assert row_counts(runtime) == rows


# --- Cancelling -----------------------------------------------------------------------


def test_delete_cancels(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"], world["x"]])
    failed = created["deliveries"][0]["id"]
    set_deliveries(runtime, {failed: "failed"})
    response = client.delete(f"{API}/posts/{created['id']}", headers=editor)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    statuses = {d["id"]: d for d in cancelled["deliveries"]}
    assert statuses[failed]["status"] == "failed"  # history is kept
    other = statuses[created["deliveries"][1]["id"]]
    assert other["status"] == "cancelled"
    assert other["next_attempt_at"] is None
    assert _get(client, editor, created["id"]) == as_read(cancelled)
    assert _calendar(client, editor, status="cancelled") == [created["id"]]
    assert _calendar(client, editor, status="scheduled") == []
    # Nothing is deleted: the post stays on the calendar as cancelled.
    assert row_counts(runtime)["posts"] == 1
    assert row_counts(runtime)["deliveries"] == 2


def test_draft_can_be_cancelled(client: TestClient, editor: dict[str, str]) -> None:
    draft = post(client, editor, text="idea", status="draft")
    response = client.delete(f"{API}/posts/{draft['id']}", headers=editor)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


# --- Derived status -------------------------------------------------------------------

# (statuses of the post's two deliveries, the post's status)
STATUS_CASES: list[tuple[tuple[str, ...], str]] = [
    (("scheduled", "scheduled"), "scheduled"),
    (("retrying", "scheduled"), "scheduled"),
    (("publishing", "scheduled"), "publishing"),
    (("publishing", "published"), "publishing"),
    (("published", "scheduled"), "publishing"),
    (("failed", "retrying"), "publishing"),
    (("published", "published"), "published"),
    (("published", "cancelled"), "published"),
    (("published", "failed"), "partially_published"),
    (("failed", "failed"), "failed"),
    (("failed", "cancelled"), "failed"),
    (("unknown", "published"), "needs_review"),
    (("unknown", "failed"), "needs_review"),
    (("unknown", "scheduled"), "needs_review"),
    (("publishing", "unknown"), "publishing"),
    (("cancelled", "cancelled"), "cancelled"),
    ((), "scheduled"),  # a scheduled post without deliveries (not made by the API)
]


def test_derived_status_and_calendar_filter_agree(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    expected: dict[str, str] = {}
    for statuses, status in STATUS_CASES:
        created = scheduled_post(client, editor, world["objective"], [world["hook"], world["x"]])
        ids = [d["id"] for d in created["deliveries"]]
        if statuses:
            set_deliveries(runtime, dict(zip(ids, statuses, strict=True)))
        else:
            with transaction(runtime.sessions) as session:
                session.execute(delete(Delivery).where(Delivery.post_id == created["id"]))
        expected[created["id"]] = status
    draft = post(client, editor, text="idea", status="draft", channel_ids=[world["hook"]])
    expected[draft["id"]] = "draft"
    cancelled = scheduled_post(client, editor, world["objective"], [world["hook"]])
    client.delete(f"{API}/posts/{cancelled['id']}", headers=editor)
    expected[cancelled["id"]] = "cancelled"

    for post_id, status in expected.items():
        assert _get(client, editor, post_id)["status"] == status, post_id
    listed = client.get(f"{API}/posts", params={"limit": 1000}, headers=editor).json()
    assert {p["id"]: p["status"] for p in listed["items"]} == expected
    for status in (
        "draft",
        "scheduled",
        "publishing",
        "published",
        "partially_published",
        "failed",
        "cancelled",
        "needs_review",
    ):
        wanted = sorted(pid for pid, st in expected.items() if st == status)
        assert wanted, status  # every status is covered
        assert sorted(_calendar(client, editor, status=status)) == wanted, status


# --- Retry ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["failed", "unknown"])
def test_retry_puts_a_delivery_back_in_the_queue(
    client: TestClient,
    editor: dict[str, str],
    runtime: Runtime,
    world: dict[str, Any],
    clock: FrozenClock,
    status: str,
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"], world["x"]])
    target, other = created["deliveries"]
    set_deliveries(
        runtime,
        {target["id"]: status, other["id"]: "published"},
        attempts=3,
        last_error="HTTP 500 from the platform",
    )
    clock.set(clock.now().replace(day=25))  # the post's time has passed
    response = client.post(f"{API}/deliveries/{target['id']}/retry", headers=editor)
    assert response.status_code == 200, response.text
    retried = response.json()
    assert retried["id"] == target["id"]
    assert retried["post_id"] == created["id"]
    assert retried["status"] == "scheduled"
    assert retried["attempts"] == 0
    assert retried["next_attempt_at"] == "2026-11-25T09:00:00Z"  # now
    fetched = _get(client, editor, created["id"])
    assert fetched["status"] == "publishing"  # one published, one pending
    by_id = {d["id"]: d for d in fetched["deliveries"]}
    assert by_id[target["id"]]["status"] == "scheduled"
    assert by_id[other["id"]]["status"] == "published"


def test_retry_refuses_other_statuses(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"]])
    [delivery] = created["deliveries"]
    for status in ("scheduled", "retrying", "publishing", "published", "cancelled", "draft"):
        set_deliveries(runtime, {delivery["id"]: status})
        before = _get(client, editor, created["id"])
        response = client.post(f"{API}/deliveries/{delivery['id']}/retry", headers=editor)
        assert response.status_code == 409, (status, response.text)
        assert status in response.json()["detail"]
        assert _get(client, editor, created["id"]) == before


def test_retry_refuses_deliveries_of_cancelled_posts(
    client: TestClient, editor: dict[str, str], runtime: Runtime, world: dict[str, Any]
) -> None:
    created = scheduled_post(client, editor, world["objective"], [world["hook"]])
    [delivery] = created["deliveries"]
    set_deliveries(runtime, {delivery["id"]: "failed"})
    client.delete(f"{API}/posts/{created['id']}", headers=editor)
    response = client.post(f"{API}/deliveries/{delivery['id']}/retry", headers=editor)
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]
    assert _get(client, editor, created["id"])["deliveries"][0]["status"] == "failed"


def test_retry_unknown_delivery_is_404(client: TestClient, editor: dict[str, str]) -> None:
    response = client.post(f"{API}/deliveries/nope/retry", headers=editor)
    assert response.status_code == 404
    assert response.json() == {"detail": "delivery nope not found"}


def test_unknown_post_is_404(client: TestClient, editor: dict[str, str]) -> None:
    for method, body in (("GET", None), ("PATCH", {"text": "x"}), ("DELETE", None)):
        response = client.request(method, f"{API}/posts/nope", json=body, headers=editor)
        assert response.status_code == 404, (method, response.text)
        assert response.json() == {"detail": "post nope not found"}
    assert total(client, editor, "/posts") == 0
