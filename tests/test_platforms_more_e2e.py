"""A post with an image to LinkedIn, Instagram, Mastodon and Bluesky, and a video to
Vimeo, through the REST API, the media library and the dispatcher, each against its
fake platform: every delivery ends published with the platform's permalink."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.channels.models import Channel
from app.channels.service import open_credentials
from app.clock import FrozenClock
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from tests.connectors.media_files import image_bytes, mp4_bytes
from tests.fakes import bluesky, instagram, linkedin, mastodon, vimeo
from tests.helpers import API, objective
from tests.test_platforms_e2e import channel, upload


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    with (
        linkedin.FakeLinkedIn() as fake_li,
        instagram.FakeInstagram(polls_needed=1) as fake_ig,
        mastodon.FakeMastodon() as fake_ma,
        bluesky.FakeBluesky() as fake_bs,
        vimeo.FakeVimeo() as fake_vi,
    ):
        yield {
            "linkedin": fake_li,
            "instagram": fake_ig,
            "mastodon": fake_ma,
            "bluesky": fake_bs,
            "vimeo": fake_vi,
        }


def make_channels(
    client: TestClient, admin: dict[str, str], fakes: dict[str, Any]
) -> dict[str, str]:
    return {
        "linkedin": channel(
            client,
            admin,
            "linkedin",
            {"organization_urn": linkedin.ORG_URN, "api_base": fakes["linkedin"].url},
            {"access_token": linkedin.TOKEN},
        ),
        "instagram": channel(
            client,
            admin,
            "instagram",
            {"ig_user_id": instagram.IG_USER_ID, "api_base": fakes["instagram"].url},
            {"page_access_token": instagram.TOKEN},
        ),
        "mastodon": channel(
            client,
            admin,
            "mastodon",
            {"instance": fakes["mastodon"].url},
            {"access_token": mastodon.TOKEN},
        ),
        "bluesky": channel(
            client,
            admin,
            "bluesky",
            {"handle": bluesky.HANDLE, "service": fakes["bluesky"].url},
            {"app_password": bluesky.APP_PASSWORD},
        ),
        "vimeo": channel(
            client,
            admin,
            "vimeo",
            {"api_base": fakes["vimeo"].url, "privacy": "unlisted"},
            {"access_token": vimeo.TOKEN},
        ),
    }


def test_image_and_video_posts_reach_the_newer_platforms(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    fakes: dict[str, Any],
) -> None:
    channels = make_channels(client, admin, fakes)
    photo = upload(client, admin, "kitchen.jpg", image_bytes("jpeg", (640, 480)))
    video = upload(client, admin, "tour.mp4", mp4_bytes(300_000))
    events = objective(client, admin, name="Community kitchen")
    at = "2026-11-23T12:00:00Z"
    image_post = client.post(
        f"{API}/posts",
        json={
            "title": "Open kitchen",
            "text": "Our community kitchen is open every Saturday. #kitchen",
            "media_ids": [photo],
            "objective_ids": [events["id"]],
            "channel_ids": [channels[p] for p in ("linkedin", "instagram", "mastodon", "bluesky")],
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
            "channel_ids": [channels["vimeo"]],
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
    [li_post] = fakes["linkedin"].posts
    assert "media" in li_post.body["content"], "the image went up before the post"
    assert links[channels["linkedin"]] == f"https://www.linkedin.com/feed/update/{li_post.urn}/"
    [(ig_media, ig_container)] = fakes["instagram"].published.items()
    assert ig_container.fields["image_url"].startswith("http://cadence.test/media/")
    assert links[channels["instagram"]] == fakes["instagram"].permalink(ig_media)
    [toot] = fakes["mastodon"].statuses
    assert toot.params["media_ids"], "the image went up before the status"
    assert links[channels["mastodon"]] == toot.url
    [skeet] = fakes["bluesky"].posts
    assert skeet.record["embed"]["$type"] == "app.bsky.embed.images"
    assert (
        links[channels["bluesky"]] == f"https://bsky.app/profile/{bluesky.HANDLE}/post/{skeet.rkey}"
    )
    with runtime.sessions() as session:  # the Bluesky session is kept for the next post
        kept = open_credentials(session.get(Channel, channels["bluesky"]), runtime.box)
    assert kept["app_password"] == bluesky.APP_PASSWORD
    assert kept["access_jwt"] in fakes["bluesky"].access_tokens
    assert kept["did"] == bluesky.DID
    [clip] = fakes["vimeo"].videos.values()
    assert clip.complete and clip.params["privacy"] == {"view": "unlisted"}
    assert links[channels["vimeo"]] == clip.link


def test_saving_contacts_no_platform_and_the_test_endpoint_checks_each(
    client: TestClient, admin: dict[str, str], fakes: dict[str, Any]
) -> None:
    channels = make_channels(client, admin, fakes)

    assert {name: fake.requests for name, fake in fakes.items()} == {n: [] for n in fakes}
    for name, channel_id in channels.items():
        response = client.post(f"{API}/channels/{channel_id}/test", headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["ok"], (name, response.json())
    posted = [
        fakes["linkedin"].posts,
        fakes["instagram"].published,
        fakes["mastodon"].statuses,
        fakes["bluesky"].posts,
        fakes["vimeo"].videos,
    ]
    assert all(not made for made in posted)
