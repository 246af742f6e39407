"""A post with an image to X, Facebook and Flickr, and a video to YouTube, through the
REST API, the media library and the dispatcher, each against its fake platform: every
delivery ends published with the platform's permalink. Too-long tweets and YouTube posts
without a video are refused before anything is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from tests.connectors.media_files import image_bytes, mp4_bytes
from tests.fakes import facebook, flickr, x, youtube
from tests.helpers import API, objective, row_counts


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    with (
        x.FakeX() as fake_x,
        facebook.FakeFacebook() as fake_fb,
        flickr.FakeFlickr() as fake_flickr,
        youtube.FakeYouTube() as fake_yt,
    ):
        yield {"x": fake_x, "facebook": fake_fb, "flickr": fake_flickr, "youtube": fake_yt}


def channel(
    client: TestClient,
    admin: dict[str, str],
    platform: str,
    config: dict[str, Any],
    credentials: dict[str, Any],
) -> str:
    response = client.post(
        f"{API}/channels",
        json={
            "name": f"Our {platform}",
            "platform": platform,
            "config": config,
            "credentials": credentials,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def upload(client: TestClient, headers: dict[str, str], name: str, data: bytes) -> str:
    response = client.post(f"{API}/media", files={"file": (name, data)}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_image_and_video_posts_reach_every_platform(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fakes: dict[str, Any],
) -> None:
    fx, ffb, ffl, fyt = fakes["x"], fakes["facebook"], fakes["flickr"], fakes["youtube"]
    channels = {
        "x": channel(
            client,
            admin,
            "x",
            {"username": x.USERNAME, "api_base": fx.url},
            {
                "consumer_key": x.CONSUMER_KEY,
                "consumer_secret": x.CONSUMER_SECRET,
                "access_token": x.ACCESS_TOKEN,
                "access_token_secret": x.ACCESS_TOKEN_SECRET,
            },
        ),
        "facebook": channel(
            client,
            admin,
            "facebook",
            {"page_id": facebook.PAGE_ID, "api_base": ffb.url},
            {"page_access_token": facebook.PAGE_TOKEN},
        ),
        "flickr": channel(
            client,
            admin,
            "flickr",
            {"user_nsid": flickr.USER_NSID, "api_base": ffl.url, "upload_base": ffl.url},
            {
                "consumer_key": flickr.CONSUMER_KEY,
                "consumer_secret": flickr.CONSUMER_SECRET,
                "oauth_token": flickr.OAUTH_TOKEN,
                "oauth_token_secret": flickr.OAUTH_TOKEN_SECRET,
            },
        ),
        "youtube": channel(
            client,
            admin,
            "youtube",
            {"api_base": fyt.url, "token_url": fyt.token_url, "privacy_status": "unlisted"},
            {
                "client_id": youtube.CLIENT_ID,
                "client_secret": youtube.CLIENT_SECRET,
                "refresh_token": youtube.REFRESH_TOKEN,
            },
        ),
    }
    photo = upload(client, admin, "kitchen.png", image_bytes("png", (640, 480)))
    video = upload(client, admin, "tour.mp4", mp4_bytes(300_000))
    events = objective(client, admin, name="Community kitchen")
    at = "2026-11-23T12:00:00Z"
    image_post = client.post(
        f"{API}/posts",
        json={
            "title": "Open kitchen",
            "text": "Our community kitchen is open every Saturday.",
            "media_ids": [photo],
            "objective_ids": [events["id"]],
            "channel_ids": [channels["x"], channels["facebook"], channels["flickr"]],
            "scheduled_at": at,
        },
        headers=admin,
    )
    assert image_post.status_code == 201, image_post.text
    video_post = client.post(
        f"{API}/posts",
        json={
            "title": "A tour of the kitchen",
            "text": "Two minutes around the kitchen.",
            "media_ids": [video],
            "objective_ids": [events["id"]],
            "channel_ids": [channels["youtube"]],
            "scheduled_at": at,
        },
        headers=admin,
    )
    assert video_post.status_code == 201, video_post.text

    clock.set(clock.now().replace(hour=12))

    async def publish() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(publish())

    image_result = client.get(f"{API}/posts/{image_post.json()['id']}", headers=admin).json()
    video_result = client.get(f"{API}/posts/{video_post.json()['id']}", headers=admin).json()
    assert image_result["status"] == "published", image_result
    assert video_result["status"] == "published", video_result
    links = {
        d["channel_id"]: d["permalink"]
        for d in image_result["deliveries"] + video_result["deliveries"]
    }
    [tweet] = fx.tweets
    assert tweet.media_ids, "the image went up before the tweet"
    assert links[channels["x"]] == f"https://x.com/{x.USERNAME}/status/{tweet.id}"
    assert links[channels["facebook"]] == f"https://www.facebook.com/{ffb.posts[-1].id}"
    [uploaded] = ffl.photos
    assert (
        links[channels["flickr"]]
        == f"https://www.flickr.com/photos/{flickr.USER_NSID}/{uploaded.id}"
    )
    [clip] = fyt.videos
    assert links[channels["youtube"]] == f"https://www.youtube.com/watch?v={clip.id}"


def test_too_long_tweet_and_youtube_without_video_are_refused_before_storing(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    x_id = channel(
        client,
        admin,
        "x",
        {"username": "ours"},
        {
            "consumer_key": "k",
            "consumer_secret": "s",
            "access_token": "t",
            "access_token_secret": "ts",
        },
    )
    yt_id = channel(
        client, admin, "youtube", {}, {"client_id": "c", "client_secret": "s", "refresh_token": "r"}
    )
    events = objective(client, admin)
    before = row_counts(runtime)
    too_long = client.post(
        f"{API}/posts",
        json={
            "text": "a" * 281,
            "objective_ids": [events["id"]],
            "channel_ids": [x_id],
            "scheduled_at": "2026-11-24T10:00:00Z",
        },
        headers=admin,
    )
    assert too_long.status_code == 422
    assert [(p["loc"], p["channel_id"]) for p in too_long.json()["detail"]] == [
        (["body", "text"], x_id)
    ]
    no_video = client.post(
        f"{API}/posts",
        json={
            "title": "Tour",
            "text": "Watch",
            "objective_ids": [events["id"]],
            "channel_ids": [yt_id],
            "scheduled_at": "2026-11-24T10:00:00Z",
        },
        headers=admin,
    )
    assert no_video.status_code == 422
    assert ["body", "media_ids"] in [p["loc"] for p in no_video.json()["detail"]]
    assert row_counts(runtime) == before
