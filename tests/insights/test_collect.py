"""Engagement collection against the fake X and YouTube: the platforms' real lookup
paths, batches of 100 and 50 ids, a rate limit in the middle that postpones the rest
(never loses it), a deleted post marked gone and never asked again, a channel that
needs reconnecting skipped without an alert, and two collectors reading each delivery
once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.alerts.models import Alert
from app.channels.models import Channel
from app.clock import FrozenClock
from app.db import transaction
from app.insights.collect import SCHEDULE, Collector, Results, claim, enroll, record
from app.insights.models import DeliveryMetric, MetricSchedule
from app.runtime import Runtime
from connectors.metrics import Figures
from tests.fakes import x, youtube
from tests.helpers import API, webhook_channel
from tests.insights.conftest import HOUR, collect, published, x_channel, youtube_channel


@pytest.fixture
def fake_x() -> Iterator[x.FakeX]:
    with x.FakeX() as fake:
        yield fake


@pytest.fixture
def fake_youtube() -> Iterator[youtube.FakeYouTube]:
    with youtube.FakeYouTube() as fake:
        yield fake


def lookups(fake: x.FakeX) -> list[list[str]]:
    return [
        parse_qs(r.query)["ids"][0].split(",")
        for r in fake.requests_to(x.TWEETS_PATH)
        if r.method == "GET"
    ]


def schedules(runtime: Runtime) -> dict[str, MetricSchedule]:
    with runtime.sessions() as session:
        return {s.delivery_id: s for s in session.scalars(select(MetricSchedule))}


def readings(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(DeliveryMetric)) or 0


def tweet_ids(n: int, fake: x.FakeX | None = None) -> list[str]:
    """Ids of tweets the fake X knows (with zero figures)."""
    ids = [str(1_800_000_000_000_000_000 + i) for i in range(n)]
    for ident in ids if fake is not None else ():
        fake.public_metrics.setdefault(ident, {})
    return ids


def test_x_figures_in_batches_of_100_and_a_deleted_tweet_is_gone(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_x: x.FakeX,
) -> None:
    channel = x_channel(client, admin, fake_x)
    ids = tweet_ids(101)
    for n, ident in enumerate(ids):
        fake_x.public_metrics[ident] = {
            "like_count": n,
            "retweet_count": 2,
            "quote_count": 1,
            "reply_count": 3,
            "impression_count": 1000 + n,
        }
    fake_x.deleted.add(ids[7])
    made = published(client, admin, runtime, channel, ids, at=clock.now())
    assert collect(runtime) == 0, "nothing is due before the first hour"

    clock.advance(hours=1)
    assert collect(runtime) == 101
    assert [len(batch) for batch in lookups(fake_x)] == [100, 1]
    state = schedules(runtime)
    gone_delivery = made[7][1]
    assert state[gone_delivery].gone and state[gone_delivery].due_at is None
    other = state[made[8][1]]
    assert other.step == 1 and other.due_at == clock.now() - HOUR + SCHEDULE[1]

    post = client.get(f"{API}/posts/{made[8][0]}", headers=admin).json()
    metrics = post["deliveries"][0]["metrics"]
    assert metrics == {
        "likes": 8,
        "reposts": 3,
        "replies": 3,
        "views": 1008,
        "clicks": None,
        "fetched_at": "2026-11-23T10:00:00Z",
        "gone": False,
    }
    assert client.get(f"{API}/posts/{made[7][0]}", headers=admin).json()["deliveries"][0][
        "metrics"
    ]["gone"]

    # Six hours on, X has more likes; the deleted tweet is not asked for again.
    fake_x.public_metrics[ids[8]]["like_count"] = 50
    clock.advance(hours=5)
    assert collect(runtime) == 100
    assert ids[7] not in {i for batch in lookups(fake_x)[2:] for i in batch}
    series = client.get(f"{API}/deliveries/{made[8][1]}/metrics", headers=admin)
    assert series.status_code == 200
    body = series.json()
    assert body["total"] == 2
    assert [r["likes"] for r in body["items"]] == [8, 50], "oldest first"


def test_a_429_in_the_middle_postpones_the_rest_and_loses_nothing(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_x: x.FakeX,
) -> None:
    fake_x.limits[x.TWEETS_PATH] = 1  # one lookup per 15-minute window
    channel = x_channel(client, admin, fake_x)
    ids = tweet_ids(150, fake_x)
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR)
    assert collect(runtime) == 100
    state = schedules(runtime)
    reset = datetime.fromtimestamp(fake_x.reset_at(), UTC)
    late = [state[d] for _, d in made[100:]]
    assert {s.due_at for s in late} == {reset}, "postponed to X's reset time"
    assert all(s.step == 0 and s.claimed_by is None for s in late)
    assert readings(runtime) == 100

    fake_x.limits[x.TWEETS_PATH] = 100
    # The fake's window runs on the real clock: by its reset (days after the test's
    # frozen now), the first 100 are due their next reading too.
    clock.set(reset)
    assert collect(runtime) == 150
    assert readings(runtime) == 250
    assert sorted(lookups(fake_x)[-1]) == sorted(ids[100:])


def test_youtube_figures_in_batches_of_50_quota_and_deleted_video(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_youtube: youtube.FakeYouTube,
) -> None:
    channel = youtube_channel(client, admin, fake_youtube)
    ids = [f"Vid{n:08d}" for n in range(120)]
    for n, ident in enumerate(ids):
        stats = {"viewCount": str(500 + n), "favoriteCount": "0", "commentCount": "4"}
        if n != 3:  # the owner hides the likes of video 3
            stats["likeCount"] = str(n)
        fake_youtube.statistics[ident] = stats
    fake_youtube.deleted.add(ids[5])
    fake_youtube.list_quota = 2  # the third call of the day meets quotaExceeded
    hook = webhook_channel(client, admin)["id"]
    made = published(client, admin, runtime, channel, ids, at=clock.now() - HOUR, via=hook)

    assert collect(runtime) == 100
    calls = fake_youtube.requests_to("videos")
    assert [len(parse_qs(r.query)["id"][0].split(",")) for r in calls] == [50, 50, 20]
    assert all("statistics" in parse_qs(r.query)["part"][0] for r in calls)
    state = schedules(runtime)
    assert state[made[5][1]].gone
    postponed = {state[d].due_at for _, d in made[100:]}
    assert postponed == {datetime(2026, 11, 24, 8, 0, tzinfo=UTC)}, "midnight Pacific"

    post = client.get(f"{API}/posts/{made[3][0]}", headers=admin).json()
    metrics = post["deliveries"][0]["metrics"]
    assert (metrics["likes"], metrics["views"], metrics["replies"]) == (None, 503, 4)
    assert metrics["reposts"] is None

    fake_youtube.list_quota = None
    clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    assert collect(runtime) == 20 + 99, "the postponed ones, and the 6 h readings"


def test_a_channel_that_needs_reconnecting_is_skipped_without_alerts(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_x: x.FakeX,
) -> None:
    channel = x_channel(client, admin, fake_x)
    made = published(client, admin, runtime, channel, tweet_ids(3, fake_x), at=clock.now() - HOUR)
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Channel).where(Channel.id == channel).values(status="needs_reconnect")
        )
    with runtime.sessions() as session:
        alerts_before = session.scalar(select(func.count()).select_from(Alert))
    for _ in range(3):
        assert collect(runtime) == 0
        clock.advance(hours=1)
    assert lookups(fake_x) == []
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == alerts_before
    assert all(not s.gone for s in schedules(runtime).values())
    assert len(schedules(runtime)) == len(made)


def test_revoked_credentials_postpone_quietly(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_x: x.FakeX,
) -> None:
    channel = x_channel(client, admin, fake_x)
    made = published(client, admin, runtime, channel, tweet_ids(2, fake_x), at=clock.now() - HOUR)
    fake_x.revoke()
    assert collect(runtime) == 0
    state = schedules(runtime)
    assert {state[d].due_at for _, d in made} == {clock.now() + 6 * HOUR}
    assert readings(runtime) == 0


def test_two_collectors_read_each_delivery_once(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_x: x.FakeX,
) -> None:
    channel = x_channel(client, admin, fake_x)
    ids = tweet_ids(40, fake_x)
    published(client, admin, runtime, channel, ids, at=clock.now() - HOUR)

    async def both() -> list[int]:
        first = Collector(runtime, owner="worker-a")
        second = Collector(runtime, owner="worker-b")
        try:
            return list(await asyncio.gather(first.run(), second.run()))
        finally:
            await first.close()
            await second.close()

    counts = asyncio.run(both())
    assert sum(counts) == 40
    asked = [i for batch in lookups(fake_x) for i in batch]
    assert sorted(asked) == sorted(ids)
    assert readings(runtime) == 40


def test_collect_everything_reads_the_last_30_days_whatever_the_schedule(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_x: x.FakeX,
) -> None:
    channel = x_channel(client, admin, fake_x)
    recent = published(
        client, admin, runtime, channel, tweet_ids(2, fake_x), at=clock.now() - HOUR / 2
    )
    old = published(
        client, admin, runtime, channel, ["1700000000000000001"], at=clock.now() - 31 * 24 * HOUR
    )
    assert collect(runtime, everything=True) == 2
    assert [sorted(ids) for ids in lookups(fake_x)] == [sorted(tweet_ids(2))]  # one call
    state = schedules(runtime)
    assert old[0][1] not in state
    assert state[recent[0][1]].step == 0, "the schedule is kept"


def test_metrics_of_an_unknown_delivery_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get(f"{API}/deliveries/nope/metrics", headers=admin)
    assert response.status_code == 404


def test_a_collector_past_its_lease_keeps_nothing(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fake_x: x.FakeX,
) -> None:
    channel = x_channel(client, admin, fake_x)
    made = published(client, admin, runtime, channel, tweet_ids(1, fake_x), at=clock.now() - HOUR)
    with transaction(runtime.sessions) as session:
        enroll(session, clock.now())
        slow = claim(session, now=clock.now(), owner="slow", lease=timedelta(minutes=15))
    assert [c.delivery_id for c in slow] == [made[0][1]]
    clock.advance(minutes=16)
    assert collect(runtime, owner="quick") == 1
    late = Results(figures={made[0][1]: Figures(likes=99)})
    with transaction(runtime.sessions) as session:
        record(session, slow, late, now=clock.now(), owner="slow")
    assert readings(runtime) == 1
    with runtime.sessions() as session:
        assert session.scalar(select(DeliveryMetric.likes)) == 0
