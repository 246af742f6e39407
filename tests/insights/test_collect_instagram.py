"""Engagement collection against the fake Instagram: one media a call, likes and
comments, hidden likes as None, a rate limit postponing the rest (never losing it), a
deleted media marked gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.runtime import Runtime
from tests.fakes import facebook, instagram
from tests.helpers import webhook_channel
from tests.insights.conftest import HOUR, collect, make_channel, published
from tests.insights.test_collect_more import latest_metrics, state


@pytest.fixture
def fake_instagram() -> Iterator[instagram.FakeInstagram]:
    with instagram.FakeInstagram() as fake:
        yield fake


def test_instagram_likes_comments_a_rate_limit_and_a_deleted_media(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_instagram: instagram.FakeInstagram,
) -> None:
    channel = make_channel(
        client,
        admin,
        "instagram",
        {"ig_user_id": instagram.IG_USER_ID, "api_base": fake_instagram.url},
        {"page_access_token": instagram.TOKEN},
    )
    via = webhook_channel(client, admin, name="Rules")["id"]  # an Instagram post needs media
    ids = ["18000000000000101", "18000000000000102", "18000000000000103", "18000000000000104"]
    fake_instagram.engagement = {
        ids[0]: {"like_count": 42, "comments_count": 5},
        ids[1]: {"comments_count": 1},  # the owner hid the likes
        ids[3]: {"like_count": 8, "comments_count": 0},
    }
    fake_instagram.deleted.add(ids[2])
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR, via=via)
    fake_instagram.answer_next(
        instagram.json_answer(200, {"id": ids[0], **fake_instagram.engagement[ids[0]]}),
        instagram.json_answer(200, {"id": ids[1], **fake_instagram.engagement[ids[1]]}),
        facebook.rate_limited(4, regain_minutes=30),
    )
    assert collect(runtime) == 2
    schedules = state(runtime)
    assert {schedules[d].due_at for _, d in made[2:]} == {clock.now() + timedelta(minutes=30)}
    first = latest_metrics(client, admin, made[0][0])
    assert (first["likes"], first["replies"], first["reposts"], first["views"]) == (
        42,
        5,
        None,
        None,
    )
    hidden = latest_metrics(client, admin, made[1][0])
    assert (hidden["likes"], hidden["replies"]) == (None, 1)

    clock.advance(minutes=30)
    assert collect(runtime) == 2
    assert state(runtime)[made[2][1]].gone
    assert latest_metrics(client, admin, made[3][0])["likes"] == 8
    asked = [r for r in fake_instagram.sink.requests if r.method == "GET"]
    assert [r.path for r in asked[-2:]] == [f"/v24.0/{ids[2]}", f"/v24.0/{ids[3]}"]
    assert parse_qs(asked[-1].query)["fields"] == ["like_count,comments_count"]
