"""The leaderboard and the weekly Twophy."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.clock import FrozenClock
from app.posts.models import Post, PostKind
from app.runtime import Runtime
from app.team.jobs import run_twophy
from app.team.twophy import badges, week_due
from tests.helpers import API, HOOK_URL, objective, scheduled_post, set_deliveries, webhook_channel


@pytest.fixture
def week(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    contributor: dict[str, str],
) -> dict[str, Any]:
    """In 2026-W48: the contributor publishes two posts (one objective-day each on two
    objectives), the editor one; a cancelled post and an alert do not count."""
    from datetime import UTC, datetime

    first = objective(client, admin)["id"]
    second = objective(client, admin, name="Fundraising")["id"]
    hook = webhook_channel(client, admin, url=HOOK_URL, receives_alerts=True)["id"]
    mine = [
        scheduled_post(client, contributor, first, [hook]),
        scheduled_post(client, contributor, second, [hook], text="Another"),
    ]
    for p in mine:
        client.post(f"{API}/posts/{p['id']}/approve", headers=editor)
    rejected = scheduled_post(client, contributor, first, [hook], text="Nope")
    client.post(f"{API}/posts/{rejected['id']}/reject", json={"comment": "no"}, headers=editor)
    theirs = scheduled_post(client, editor, first, [hook], text="Editor's")
    published_at = datetime(2026, 11, 24, 10, 0, 5, tzinfo=UTC)
    deliveries = [p["deliveries"][0]["id"] for p in [*mine, theirs]]
    return {"deliveries": deliveries, "published_at": published_at, "hook": hook}


def publish(runtime: Runtime, week: dict[str, Any]) -> None:
    set_deliveries(
        runtime,
        dict.fromkeys(week["deliveries"], "published"),
        published_at=week["published_at"],
    )


def test_leaderboard_ranks_and_counts(
    client: TestClient, runtime: Runtime, viewer: dict[str, str], week: dict[str, Any]
) -> None:
    publish(runtime, week)
    answer = client.get(f"{API}/leaderboard", params={"week": "2026-W48"}, headers=viewer)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["week"] == "2026-W48"
    first, second = body["items"]
    assert (first["email"], first["published"], first["objective_days"]) == (
        "contributor@example.org",
        2,
        2,
    )
    assert (first["submitted"], first["approved"], first["rejected"]) == (3, 2, 1)
    assert (second["email"], second["published"]) == ("editor@example.org", 1)
    assert set(first) == {
        "user_id", "email", "display_name", "published", "objective_days",
        "submitted", "approved", "rejected",
    }  # fmt: skip
    # This week by default (the test clock's); nothing in the week before.
    assert client.get(f"{API}/leaderboard", headers=viewer).json()["week"] == "2026-W48"
    empty = client.get(f"{API}/leaderboard", params={"week": "2026-W47"}, headers=viewer)
    assert empty.json()["items"] == []


@pytest.mark.parametrize("week", ["2026-48", "2026-W54", "2025-W53", "W48", "2026-W4\uff18"])
def test_a_bad_week_is_422(client: TestClient, viewer: dict[str, str], week: str) -> None:
    answer = client.get(f"{API}/leaderboard", params={"week": week}, headers=viewer)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "week"]


def test_twophy_is_announced_once_on_monday(
    client: TestClient,
    runtime: Runtime,
    clock: FrozenClock,
    admin: dict[str, str],
    week: dict[str, Any],
) -> None:
    from datetime import datetime

    publish(runtime, week)
    assert run_twophy(runtime) is False  # W47 had nobody: recorded with no winner
    clock.set(datetime.fromisoformat("2026-11-30T08:59:00+00:00"))
    assert run_twophy(runtime) is False  # Monday, before 09:00 (Europe/London)
    clock.set(datetime.fromisoformat("2026-11-30T09:00:00+00:00"))
    assert run_twophy(runtime) is True
    assert run_twophy(runtime) is False  # another process, or the next minute
    with runtime.sessions() as session:
        announcements = session.scalars(
            select(Post).where(Post.kind == PostKind.alert, Post.title == "Twophy 2026-W48")
        ).all()
        assert len(announcements) == 1
        [post] = announcements
        assert "contributor@example.org" in post.text
        assert [d.channel_id for d in post.deliveries] == [week["hook"]]
    contributor_id = client.get(f"{API}/leaderboard", params={"week": "2026-W48"}, headers=admin)
    user_id = contributor_id.json()["items"][0]["user_id"]
    with runtime.sessions() as session:
        assert badges(session, user_id) == ["2026-W48"]
    # Announcements are not posts of anyone: next week's board does not count them.
    assert (
        client.get(f"{API}/leaderboard", params={"week": "2026-W49"}, headers=admin).json()["items"]
        == []
    )


def test_week_due() -> None:
    from datetime import datetime

    monday = datetime.fromisoformat("2026-11-30T09:30:00+00:00")
    assert str(week_due(monday, zone="Europe/London", at="09:00")) == "2026-11-23"
    assert week_due(monday, zone="Europe/London", at="10:00") is None
    sunday = datetime.fromisoformat("2026-12-06T23:00:00+00:00")
    assert str(week_due(sunday, zone="Europe/London", at="09:00")) == "2026-11-23"
