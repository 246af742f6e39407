"""Planning meets the team workflow (issues 12 and 13): a library post that needs
approval needs it once and its copies are scheduled; a post pending approval takes its
slot; a contributor's series is pending occurrence by occurrence; two queue requests
never take one slot and two overlapping blackouts never both pass (two connections);
approval alerts go at once and link to the approval queue."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.alerts.announce import Times, announce
from app.alerts.models import AlertKind
from app.alerts.service import open_alert
from app.db import transaction
from app.planning import blackouts, slots
from app.planning.library import autofill_all
from app.planning.schemas import BlackoutIn
from app.posts import flows
from app.posts.models import Post, PostKind
from app.posts.schemas import PostCreate
from app.runtime import Runtime
from app.users.models import Role, User
from tests.conftest import make_token
from tests.helpers import API, objective, post, webhook_channel

# The test clock: Monday 23 November 2026, 09:00 UTC (= 09:00 in London).


@pytest.fixture
def contributor(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(runtime, Role.contributor)}"}


@pytest.fixture
def world(client: TestClient, admin: dict[str, str], editor: dict[str, str]) -> dict[str, Any]:
    hook = webhook_channel(client, admin)["id"]
    obj = objective(client, admin, autofill="schedule", autofill_ahead_days=2)["id"]
    every_day = [{"weekday": d, "time": "10:00", "channel_ids": [hook]} for d in range(7)]
    response = client.put(f"{API}/objectives/{obj}/slots", json=every_day, headers=editor)
    assert response.status_code == 200, response.text
    return {"objective": obj, "hook": hook}


def _library(client: TestClient, headers: dict[str, str], world: dict[str, Any], words: str) -> Any:
    body = {
        "text": words,
        "objective_ids": [world["objective"]],
        "channel_ids": [world["hook"]],
        "evergreen": True,
    }
    return client.post(f"{API}/posts", json=body, headers=headers)


def _filled(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items = client.get(f"{API}/posts", headers=headers).json()["items"]
    return [i for i in items if i["auto_filled"]]


def _check(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(f"{API}/coverage/check", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_a_contributors_library_post_waits_once_then_its_copies_are_scheduled(
    client: TestClient,
    contributor: dict[str, str],
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
) -> None:
    made = _library(client, contributor, world, "Our advice line is free")
    assert made.status_code == 201, made.text
    tip = made.json()
    assert tip["status"] == "pending_approval" and tip["evergreen"] is True
    assert tip["scheduled_at"] is None and tip["library_held"] is True
    shelf = client.get(f"{API}/objectives/{world['objective']}/library", headers=editor).json()
    assert [p["id"] for p in shelf["items"]] == [tip["id"]]
    # It waits in the approval queue, and never on the calendar.
    queue = client.get(f"{API}/posts", params={"status": "pending_approval"}, headers=editor)
    assert [p["id"] for p in queue.json()["items"]] == [tip["id"]]
    assert client.get(f"{API}/posts", headers=editor).json()["total"] == 0
    _check(client, editor)
    assert autofill_all(runtime, now=runtime.clock.now()) == 0  # never used unapproved
    approved = client.post(f"{API}/posts/{tip['id']}/approve", headers=editor)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "draft" and approved.json()["scheduled_at"] is None
    assert approved.json()["library_held"] is False
    assert autofill_all(runtime, now=runtime.clock.now()) == 1  # today; tomorrow: cooldown
    [copy] = _filled(client, editor)
    # Made as the contributor's post, yet scheduled: the library post was approved once.
    assert copy["status"] == "scheduled" and copy["filled_from"] == tip["id"]
    assert copy["scheduled_at"] == "2026-11-23T10:00:00Z"
    queue = client.get(f"{API}/posts", params={"status": "pending_approval"}, headers=editor)
    assert queue.json()["total"] == 0
    trail = client.get(
        f"{API}/audit", params={"subject_type": "post", "subject_id": tip["id"]}, headers=editor
    ).json()
    assert [e["action"] for e in trail["items"]] == ["approve", "submit", "create"]
    assert trail["items"][0]["changes"] == {"status": ["pending_approval", "draft"]}


def test_a_rejected_library_post_is_never_used(
    client: TestClient,
    contributor: dict[str, str],
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
) -> None:
    tip = _library(client, contributor, world, "A tip with a typo").json()
    rejected = client.post(
        f"{API}/posts/{tip['id']}/reject", json={"comment": "typo"}, headers=editor
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "draft" and rejected.json()["library_held"] is True
    _check(client, editor)
    assert autofill_all(runtime, now=runtime.clock.now()) == 0
    assert _filled(client, editor) == []


def test_a_guarded_library_post_is_approved_once_and_filled_by_hand(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    world: dict[str, Any],
) -> None:
    client.patch(
        f"{API}/objectives/{world['objective']}", json={"autofill": "suggest"}, headers=admin
    )
    for phrase, action in (("project falcon", "require_approval"), ("confidential", "block")):
        body = {"phrase": phrase, "action": action, "note": "ask comms"}
        assert client.post(f"{API}/guardrails", json=body, headers=admin).status_code == 201
    # A block rule refuses a library post like any post.
    refused = _library(client, editor, world, "Confidential: the budget")
    assert refused.status_code == 422 and "confidential" in refused.text
    tip = _library(client, editor, world, "Project Falcon helps people at home").json()
    assert tip["status"] == "pending_approval"  # even an editor's
    opened = _check(client, editor)["opened"]
    tomorrow = next(a for a in opened if a["day"] == "2026-11-24")
    waiting = client.post(f"{API}/alerts/{tomorrow['id']}/fill", headers=editor)
    assert waiting.status_code == 409  # nothing approved to fill with
    assert client.post(f"{API}/posts/{tip['id']}/approve", headers=admin).status_code == 200
    filled = client.post(f"{API}/alerts/{tomorrow['id']}/fill", headers=editor)
    assert filled.status_code == 201, filled.text
    # The copy matches the require_approval rule, and is scheduled all the same.
    assert filled.json()["status"] == "scheduled" and filled.json()["filled_from"] == tip["id"]


def test_a_post_pending_approval_takes_its_slot(
    client: TestClient,
    contributor: dict[str, str],
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
) -> None:
    pending = post(
        client,
        contributor,
        text="Waiting for an approver",
        objective_ids=[world["objective"]],
        channel_ids=[world["hook"]],
        scheduled_at="2026-11-23T10:00:00Z",
    )
    assert pending["status"] == "pending_approval"
    queued = post(client, editor, text="Queued", objective_ids=[world["objective"]], queue=True)
    assert queued["scheduled_at"] == "2026-11-24T10:00:00Z"  # not today's taken slot
    # Auto-fill: today's only slot is taken (pending does not cover the day: nothing to
    # fill it with), tomorrow is covered by the queued post.
    assert _library(client, editor, world, "A tip").status_code == 201
    _check(client, editor)
    assert autofill_all(runtime, now=runtime.clock.now()) == 0
    assert _filled(client, editor) == []


def test_a_contributors_series_is_pending_occurrence_by_occurrence(
    client: TestClient,
    contributor: dict[str, str],
    editor: dict[str, str],
    admin: dict[str, str],
    world: dict[str, Any],
) -> None:
    first = post(
        client,
        contributor,
        text="Weekly tip",
        objective_ids=[world["objective"]],
        channel_ids=[world["hook"]],
        scheduled_at="2026-11-24T10:00:00Z",
        recurrence="FREQ=WEEKLY;COUNT=3",
    )
    listed = client.get(
        f"{API}/posts", params={"series_id": first["series_id"]}, headers=editor
    ).json()["items"]
    assert [p["status"] for p in listed] == ["pending_approval"] * 3
    assert client.post(f"{API}/posts/{first['id']}/approve", headers=editor).status_code == 200
    listed = client.get(
        f"{API}/posts", params={"series_id": first["series_id"]}, headers=editor
    ).json()["items"]
    assert [p["status"] for p in listed] == ["scheduled", "pending_approval", "pending_approval"]
    # A series edit goes through the guardrails like any post edit.
    body = {"phrase": "internal only", "action": "block", "note": "not for the public"}
    assert client.post(f"{API}/guardrails", json=body, headers=admin).status_code == 201
    edit = client.patch(
        f"{API}/series/{first['series_id']}", json={"text": "Internal only tip"}, headers=editor
    )
    assert edit.status_code == 422 and "internal only" in edit.text
    still = client.get(f"{API}/posts/{first['id']}", headers=editor).json()
    assert still["text"] == "Weekly tip"


def _postgresql(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        return session.get_bind().dialect.name == "postgresql"


def _wait_until_blocked(runtime: Runtime) -> None:
    """PostgreSQL: until a connection of this database waits for a lock (the other
    request, stopped at the lock the first transaction holds)."""
    if not _postgresql(runtime):
        return  # SQLite: the other request waits for the write lock, whenever it comes
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(3000):
        with runtime.sessions() as session:
            if session.scalar(query):
                return
        time.sleep(0.01)
    raise RuntimeError("the second request never waited for the lock")


def _user(runtime: Runtime, email: str) -> User:
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        session.expunge(user)
        return user


def test_two_queue_requests_at_once_never_take_one_slot(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    user = _user(runtime, "editor@example.org")
    now = runtime.clock.now()
    answers: list[Any] = []
    with runtime.sessions() as first:
        body = PostCreate(text="First", objective_ids=[world["objective"]], queue=True)
        placed = slots.queued(first, body, now=now, days=30)
        hold = slots.holder(first, placed)
        flows.create_post(first, runtime, data=placed, user=user, now=now, before_write=hold)
        # The first request's transaction is open, holding the objective; now the second.
        second = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    f"{API}/posts",
                    json={"text": "Second", "objective_ids": [world["objective"]], "queue": True},
                    headers=editor,
                )
            )
        )
        second.start()
        _wait_until_blocked(runtime)
        first.commit()
    second.join()
    [answer] = answers
    # PostgreSQL: it read before the first committed, then found the slot taken (409);
    # SQLite: it waited for the first to commit, then took the next slot.
    assert answer.status_code in (201, 409), answer.text
    if _postgresql(runtime):
        assert answer.status_code == 409 and "slot was taken" in answer.text
    with runtime.sessions() as session:
        times = list(session.scalars(select(Post.scheduled_at).where(Post.kind == PostKind.post)))
    assert len(times) == len(set(times)) == (2 if answer.status_code == 201 else 1)
    again = client.post(
        f"{API}/posts",
        json={"text": "Again", "objective_ids": [world["objective"]], "queue": True},
        headers=editor,
    )
    assert again.status_code == 201 and again.json()["scheduled_at"] not in {
        t.isoformat().replace("+00:00", "Z") for t in times
    }


def test_two_overlapping_blackouts_at_once_never_both_pass(
    client: TestClient, editor: dict[str, str], runtime: Runtime
) -> None:
    user = _user(runtime, "editor@example.org")
    answers: list[Any] = []
    with runtime.sessions() as first:
        data = BlackoutIn(date_from=date(2026, 12, 24), date_to=date(2026, 12, 26))
        blackouts.create(first, data=data, user=user, now=runtime.clock.now(), lookahead_days=7)
        second = threading.Thread(
            target=lambda: answers.append(
                client.post(
                    f"{API}/blackouts",
                    json={"date_from": "2026-12-25", "date_to": "2026-12-31"},
                    headers=editor,
                )
            )
        )
        second.start()
        _wait_until_blocked(runtime)
        first.commit()
    second.join()
    [answer] = answers
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "date_from"]
    assert client.get(f"{API}/blackouts", headers=editor).json()["total"] == 1


LONDON = Times(zone="Europe/London", urgent_after="12:00", summary_at="09:00")


def test_approval_alerts_go_at_once_and_link_to_the_queue(
    client: TestClient, contributor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    pending = post(
        client,
        contributor,
        text="Waiting",
        objective_ids=[world["objective"]],
        channel_ids=[world["hook"]],
        scheduled_at="2026-11-24T10:00:00Z",
    )
    early = datetime.fromisoformat("2026-11-23T07:00:00+00:00")  # before the summary
    with transaction(runtime.sessions) as session:
        open_alert(
            session,
            kind=AlertKind.approval_requested,
            key="2026-11-23T06:59Z",
            message="1 post submitted at 2026-11-23T06:59Z await approval",
            now=early,
        )
        open_alert(
            session,
            kind=AlertKind.approval_overdue,
            key=pending["id"],
            message="A post due in 90 minutes still waits for approval: Waiting",
            now=early,
            post_id=pending["id"],
        )
    with transaction(runtime.sessions) as session:
        assert announce(session, now=early, base_url="http://cadence.test", times=LONDON) == 1
    with runtime.sessions() as session:
        [message] = session.scalars(select(Post).where(Post.kind == PostKind.alert)).all()
        title, words = message.title or "", message.text
    assert title == "Cadence alerts: 2 need action now"
    lines = [line for line in words.split("\n") if "approval" in line]
    assert len(lines) == 2
    assert all(line.endswith(" http://cadence.test/approvals") for line in lines)
