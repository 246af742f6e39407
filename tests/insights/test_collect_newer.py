"""Engagement collection against the fake Mastodon and Bluesky: the real paths and
batch sizes, a rate limit in the middle postponing the rest (never losing it), a
deleted post marked gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.runtime import Runtime
from tests.fakes import bluesky, linkedin, mastodon, vimeo
from tests.helpers import webhook_channel
from tests.insights.conftest import HOUR, collect, make_channel, published
from tests.insights.test_collect_more import latest_metrics, state


@pytest.fixture
def fake_mastodon() -> Iterator[mastodon.FakeMastodon]:
    with mastodon.FakeMastodon() as fake:
        yield fake


@pytest.fixture
def fake_bluesky() -> Iterator[bluesky.FakeBluesky]:
    with bluesky.FakeBluesky() as fake:
        yield fake


def test_mastodon_favourites_reblogs_replies_and_a_deleted_status(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_mastodon: mastodon.FakeMastodon,
) -> None:
    channel = make_channel(
        client, admin, "mastodon", {"instance": fake_mastodon.url}, {"access_token": mastodon.TOKEN}
    )
    ids = ["113500000000000001", "113500000000000002", "113500000000000003"]
    fake_mastodon.counts = {
        ids[0]: {"favourites_count": 7, "reblogs_count": 2, "replies_count": 1},
        ids[2]: {"favourites_count": 3},
    }  # ids[1] was deleted: 404 Record not found
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR)
    fake_mastodon.rate_limit_read = 2  # one status read, then Mastodon's 429
    assert collect(runtime) == 1
    due = [s.due_at for s in state(runtime).values() if s.step == 0 and not s.gone]
    assert due == [clock.now() + timedelta(minutes=2)] * 2, "Retry-After: postponed"

    clock.advance(minutes=2)
    assert collect(runtime) == 2
    schedules = state(runtime)
    assert [schedules[d].gone for _, d in made] == [False, True, False]
    assert latest_metrics(client, admin, made[0][0]) | {"fetched_at": None} == {
        "likes": 7,
        "reposts": 2,
        "replies": 1,
        "views": None,
        "clicks": None,
        "fetched_at": None,
        "gone": False,
    }
    assert latest_metrics(client, admin, made[2][0])["likes"] == 3
    asked = [r for r in fake_mastodon.sink.requests if r.method == "GET"]
    assert {r.path for r in asked} == {f"/api/v1/statuses/{i}" for i in ids}
    assert all(r.header("authorization") == f"Bearer {mastodon.TOKEN}" for r in asked)
    # Gone is gone: the deleted status is not asked again.
    deleted = f"/api/v1/statuses/{ids[1]}"
    before = [r.path for r in asked].count(deleted)
    clock.advance(days=2)
    assert collect(runtime) == 2
    later = [r.path for r in fake_mastodon.sink.requests if r.method == "GET"]
    assert later.count(deleted) == before


def test_bluesky_getposts_in_batches_of_25_and_a_deleted_post(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_bluesky: bluesky.FakeBluesky,
) -> None:
    channel = make_channel(
        client,
        admin,
        "bluesky",
        {"handle": bluesky.HANDLE, "service": fake_bluesky.url},
        {"app_password": bluesky.APP_PASSWORD},
    )
    uris = [f"at://{bluesky.DID}/app.bsky.feed.post/3lkit{n:04d}x2" for n in range(30)]
    fake_bluesky.counts = {uri: {"likeCount": n, "repostCount": 1} for n, uri in enumerate(uris)}
    fake_bluesky.counts[uris[0]] |= {"replyCount": 4, "quoteCount": 2}
    del fake_bluesky.counts[uris[7]]  # deleted: left out of `posts`
    made = published(client, admin, runtime, channel, uris, at=clock.now() - HOUR)
    fake_bluesky.rate_limit_lookup = 2  # the first batch is read, the second meets 429
    assert collect(runtime) == 25
    due = sorted(s.due_at for s in state(runtime).values() if s.step == 0 and not s.gone)
    assert due == [clock.now() + timedelta(minutes=5)] * 5, "Retry-After: postponed"

    clock.advance(minutes=5)
    assert collect(runtime) == 5
    schedules = state(runtime)
    assert [d for _, d in made if schedules[d].gone] == [made[7][1]]
    assert latest_metrics(client, admin, made[0][0]) | {"fetched_at": None} == {
        "likes": 0,
        "reposts": 3,
        "replies": 4,
        "views": None,
        "clicks": None,
        "fetched_at": None,
        "gone": False,
    }
    assert latest_metrics(client, admin, made[29][0])["likes"] == 29
    lookups = [r for r in fake_bluesky.sink.requests if r.path.endswith("app.bsky.feed.getPosts")]
    sizes = [len(parse_qs(r.query)["uris"]) for r in lookups]
    assert sizes == [25, 5, 5], "the batch refused by the 429 is asked again"
    assert {u for r in lookups for u in parse_qs(r.query)["uris"]} == set(uris)
    assert all(r.header("authorization") for r in lookups)


@pytest.fixture
def fake_linkedin() -> Iterator[linkedin.FakeLinkedIn]:
    with linkedin.FakeLinkedIn() as fake:
        yield fake


@pytest.fixture
def fake_vimeo() -> Iterator[vimeo.FakeVimeo]:
    with vimeo.FakeVimeo() as fake:
        yield fake


def test_linkedin_social_actions_likes_comments_and_a_deleted_post(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_linkedin: linkedin.FakeLinkedIn,
) -> None:
    channel = make_channel(
        client,
        admin,
        "linkedin",
        {"organization_urn": linkedin.ORG_URN, "api_base": fake_linkedin.url},
        {"access_token": linkedin.TOKEN},
    )
    urns = [f"urn:li:share:72800000000000000{n}" for n in (1, 2, 3)]
    fake_linkedin.engagement = {urns[0]: {"likes": 9, "comments": 4}, urns[2]: {"likes": 1}}
    made = published(client, admin, runtime, channel, urns, at=clock.now() - HOUR)
    fake_linkedin.rate_limit_read = 2
    assert collect(runtime) == 1
    due = [s.due_at for s in state(runtime).values() if s.step == 0 and not s.gone]
    assert due == [clock.now() + timedelta(minutes=10)] * 2, "Retry-After: postponed"

    clock.advance(minutes=10)
    assert collect(runtime) == 2
    schedules = state(runtime)
    assert [schedules[d].gone for _, d in made] == [False, True, False]
    metrics = latest_metrics(client, admin, made[0][0])
    assert (metrics["likes"], metrics["replies"], metrics["reposts"], metrics["views"]) == (
        9,
        4,
        None,
        None,
    )
    assert latest_metrics(client, admin, made[2][0])["likes"] == 1
    asked = [r for r in fake_linkedin.sink.requests if r.method == "GET"]
    assert {r.path for r in asked} == {f"/rest/socialActions/{u}" for u in urns}
    assert all(
        r.header("linkedin-version") and r.header("x-restli-protocol-version") for r in asked
    )


def test_vimeo_plays_likes_comments_and_a_deleted_video(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_vimeo: vimeo.FakeVimeo,
) -> None:
    channel = make_channel(
        client,
        admin,
        "vimeo",
        {"api_base": fake_vimeo.url, "privacy": "unlisted"},
        {"access_token": vimeo.TOKEN},
    )
    via = webhook_channel(client, admin, name="Rules")["id"]  # a Vimeo post needs a video
    ids = ["1040000101", "1040000102", "1040000103"]
    fake_vimeo.stats = {
        ids[0]: {"plays": 120, "likes": 6, "comments": 2},
        ids[2]: {"plays": 3},
    }
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR, via=via)
    fake_vimeo.rate_limit_read = 3
    assert collect(runtime) == 2
    due = [s.due_at for s in state(runtime).values() if s.step == 0 and not s.gone]
    assert due == [clock.now() + timedelta(seconds=90)], "Retry-After: postponed"

    clock.advance(seconds=90)
    assert collect(runtime) == 1
    schedules = state(runtime)
    assert [schedules[d].gone for _, d in made] == [False, True, False]
    metrics = latest_metrics(client, admin, made[0][0])
    assert (metrics["views"], metrics["likes"], metrics["replies"], metrics["reposts"]) == (
        120,
        6,
        2,
        None,
    )
    assert latest_metrics(client, admin, made[2][0])["views"] == 3
    asked = [r for r in fake_vimeo.sink.requests if r.method == "GET"]
    assert {r.path for r in asked} == {f"/videos/{i}" for i in ids}
    assert "stats.plays" in parse_qs(asked[-1].query)["fields"][0]
