"""Engagement collection against the fake Facebook, Flickr and Viva Engage: the real
paths (one post a call), a rate limit in the middle postponing the rest, a deleted
post marked gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.clock import FrozenClock
from app.insights.models import DeliveryMetric, MetricSchedule
from app.runtime import Runtime
from tests.fakes import facebook, flickr, yammer
from tests.helpers import API, webhook_channel
from tests.insights.conftest import HOUR, collect, make_channel, published


def state(runtime: Runtime) -> dict[str, MetricSchedule]:
    with runtime.sessions() as session:
        return {s.delivery_id: s for s in session.scalars(select(MetricSchedule))}


def latest_metrics(client: TestClient, admin: dict[str, str], post_id: str) -> dict[str, object]:
    post = client.get(f"{API}/posts/{post_id}", headers=admin).json()
    metrics: dict[str, object] = post["deliveries"][0]["metrics"]
    return metrics


@pytest.fixture
def fake_facebook() -> Iterator[facebook.FakeFacebook]:
    with facebook.FakeFacebook() as fake:
        yield fake


@pytest.fixture
def fake_flickr() -> Iterator[flickr.FakeFlickr]:
    with flickr.FakeFlickr() as fake:
        yield fake


@pytest.fixture
def fake_yammer() -> Iterator[yammer.YammerFake]:
    with yammer.YammerFake() as fake:
        yield fake


def test_facebook_reactions_comments_shares_and_a_deleted_post(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_facebook: facebook.FakeFacebook,
) -> None:
    channel = make_channel(
        client,
        admin,
        "facebook",
        {"page_id": facebook.PAGE_ID, "api_base": fake_facebook.url},
        {"page_access_token": facebook.PAGE_TOKEN},
    )
    ids = [f"{facebook.PAGE_ID}_{n}" for n in range(1, 5)]
    fake_facebook.engagement = {
        ids[0]: {"reactions": 12, "comments": 3, "shares": 2},
        ids[1]: {"reactions": 1},
        ids[3]: {"reactions": 4},
    }
    fake_facebook.deleted.add(ids[2])
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR)
    # X-style 429 in the middle: the first post's answer, then Graph's rate limit.
    fake_facebook.answer_next(
        fake_facebook._post_node(ids[0]) or facebook.graph_error(1),
        fake_facebook._post_node(ids[1]) or facebook.graph_error(1),
        facebook.rate_limited(4, regain_minutes=30),
    )
    assert collect(runtime) == 2
    schedules = state(runtime)
    postponed = {schedules[d].due_at for _, d in made[2:]}
    assert postponed == {clock.now() + timedelta(minutes=30)}
    assert latest_metrics(client, admin, made[0][0]) | {"fetched_at": None} == {
        "likes": 12,
        "reposts": 2,
        "replies": 3,
        "views": None,
        "clicks": None,
        "fetched_at": None,
        "gone": False,
    }
    assert latest_metrics(client, admin, made[1][0])["reposts"] == 0

    clock.advance(minutes=30)
    assert collect(runtime) == 2
    assert state(runtime)[made[2][1]].gone
    assert latest_metrics(client, admin, made[3][0])["likes"] == 4
    asked = [r.path for r in fake_facebook.sink.requests if r.method == "GET"]
    assert asked[-2:] == [f"/v24.0/{ids[2]}", f"/v24.0/{ids[3]}"]
    fields = parse_qs(fake_facebook.sink.requests[-1].query)["fields"][0]
    assert "reactions.summary(total_count)" in fields and "shares" in fields


def test_flickr_views_and_favourites_and_a_deleted_photo(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_flickr: flickr.FakeFlickr,
) -> None:
    channel = make_channel(
        client,
        admin,
        "flickr",
        {"user_nsid": flickr.USER_NSID, "api_base": fake_flickr.url},
        {
            "consumer_key": flickr.CONSUMER_KEY,
            "consumer_secret": flickr.CONSUMER_SECRET,
            "oauth_token": flickr.OAUTH_TOKEN,
            "oauth_token_secret": flickr.OAUTH_TOKEN_SECRET,
        },
    )
    ids = ["53300000101", "53300000102", "53300000103"]
    fake_flickr.figures = {ids[0]: {"views": 250, "comments": 2, "faves": 9}, ids[2]: {}}
    fake_flickr.deleted.add(ids[1])
    hook = webhook_channel(client, admin)["id"]
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR, via=hook)

    fake_flickr.answer_next(flickr.too_many_requests("120"))
    assert collect(runtime) == 0
    assert {state(runtime)[d].due_at for _, d in made} == {clock.now() + timedelta(seconds=120)}

    clock.advance(seconds=120)
    assert collect(runtime) == 3
    metrics = latest_metrics(client, admin, made[0][0])
    assert (metrics["likes"], metrics["replies"], metrics["views"]) == (9, 2, 250)
    assert metrics["reposts"] is None
    assert state(runtime)[made[1][1]].gone
    methods = [
        parse_qs(r.query)["method"][0]
        for r in fake_flickr.sink.requests
        if r.method == "GET" and "method" in parse_qs(r.query)
    ]
    assert methods[:3] == ["flickr.photos.getInfo"] * 2 + ["flickr.photos.getFavorites"]


def test_viva_engage_likes_and_replies_and_a_deleted_message(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_yammer: yammer.YammerFake,
) -> None:
    channel = make_channel(
        client,
        admin,
        "yammer",
        {"group_id": yammer.GROUP_ID, "api_base": fake_yammer.url},
        {"access_token": yammer.TOKEN},
    )
    ids = ["2000337346863201", "2000337346863202", "2000337346863203"]
    fake_yammer.likes = {ids[0]: 5, ids[1]: 0}
    fake_yammer.thread_updates = {ids[0]: 4}
    fake_yammer.deleted.add(ids[1])
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR)
    fake_yammer.answer(fake_yammer._get_message(ids[0]), yammer.rate_limited(60))
    assert collect(runtime) == 1
    assert {state(runtime)[d].due_at for _, d in made[1:]} == {clock.now() + timedelta(minutes=1)}
    metrics = latest_metrics(client, admin, made[0][0])
    assert (metrics["likes"], metrics["replies"], metrics["views"]) == (5, 3, None)

    clock.advance(minutes=1)
    assert collect(runtime) == 2, "a deleted message and one Viva Engage never had: 404"
    assert state(runtime)[made[1][1]].gone and state(runtime)[made[2][1]].gone
    paths = [r.path for r in fake_yammer.sink.requests]
    assert f"/api/v1/messages/{ids[0]}.json" in paths
    with runtime.sessions() as session:
        assert session.scalar(select(DeliveryMetric.delivery_id).limit(1)) is not None
