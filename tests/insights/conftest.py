"""Channels on the fake platforms with published deliveries, for the insights tests."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import transaction
from app.insights.collect import Collector
from app.posts.models import Delivery, Post
from app.runtime import Runtime
from tests.fakes import x, youtube
from tests.helpers import API, objective


def make_channel(
    client: TestClient, admin: dict[str, str], platform: str, config: dict[str, Any], creds: Any
) -> str:
    response = client.post(
        f"{API}/channels",
        json={
            "name": f"Our {platform}",
            "platform": platform,
            "config": config,
            "credentials": creds,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def x_channel(client: TestClient, admin: dict[str, str], fake: x.FakeX) -> str:
    return make_channel(
        client,
        admin,
        "x",
        {"username": x.USERNAME, "api_base": fake.url},
        {
            "consumer_key": x.CONSUMER_KEY,
            "consumer_secret": x.CONSUMER_SECRET,
            "access_token": x.ACCESS_TOKEN,
            "access_token_secret": x.ACCESS_TOKEN_SECRET,
        },
    )


def youtube_channel(client: TestClient, admin: dict[str, str], fake: youtube.FakeYouTube) -> str:
    return make_channel(
        client,
        admin,
        "youtube",
        {"api_base": fake.url, "token_url": fake.token_url},
        {
            "client_id": youtube.CLIENT_ID,
            "client_secret": youtube.CLIENT_SECRET,
            "refresh_token": youtube.REFRESH_TOKEN,
        },
    )


def published(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    channel_id: str,
    external_ids: list[str],
    *,
    at: datetime,
    objective_id: str | None = None,
    text: str = "Open day",
    via: str | None = None,
) -> list[tuple[str, str]]:
    """Posts on `channel_id` marked published at `at` with these external ids, as the
    dispatcher leaves them: (post id, delivery id) each. `via`: a channel whose rules
    the posts are written under, then moved (a YouTube post needs a real video)."""
    if objective_id is None:
        objective_id = objective(client, admin, name=f"Objective {uuid.uuid4().hex[:8]}")["id"]
    response = client.post(
        f"{API}/posts/batch",
        json={
            "posts": [
                {
                    "text": f"{text} {n}",
                    "objective_ids": [objective_id],
                    "channel_ids": [via or channel_id],
                    "scheduled_at": "2026-11-24T10:00:00Z",
                }
                for n in range(len(external_ids))
            ]
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    made = [(p["id"], p["deliveries"][0]["id"]) for p in response.json()["items"]]
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Post).where(Post.id.in_([p for p, _ in made])).values(scheduled_at=at)
        )
        for (_, delivery_id), external_id in zip(made, external_ids, strict=True):
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id)
                .values(
                    status="published",
                    external_id=external_id,
                    published_at=at,
                    channel_id=channel_id,
                )
            )
    return made


def collect(runtime: Runtime, *, owner: str = "test", everything: bool = False) -> int:
    async def run() -> int:
        collector = Collector(runtime, owner=owner)
        try:
            return await collector.run(everything=everything)
        finally:
            await collector.close()

    return asyncio.run(run())


HOUR = timedelta(hours=1)
