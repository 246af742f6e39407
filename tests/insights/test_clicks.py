"""Click tracking: a tracking objective's post goes out with its links replaced by
CADENCE_BASE_URL/l/{code}; a visit counts (bots apart) and answers 302 to the URL the
post carried; an unknown code is a 404; nothing else can be redirected to."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.clock import FrozenClock
from app.db import transaction
from app.insights.links import CODE_LENGTH, is_bot, track_links, urls_in
from app.insights.models import TrackedLink
from app.publishing.claims import Job
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from connectors.base import PublishRequest
from tests.fakes.sinks import SinkServer
from tests.helpers import API, objective, webhook_channel

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SLACKBOT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LINK = "https://example.org/open-day?utm_source=cadence&utm_medium=social"
TEXT = "Doors open at nine: see https://example.org/map and tickets at shop.example.com/t"


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    with SinkServer() as server:
        yield server


def drain(runtime: Runtime) -> None:
    async def go() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(go())


def publish(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
    *,
    track: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A post with a link and two URLs in its text, published to a webhook: the post as
    the API shows it afterwards, and the body the webhook received."""
    goal = objective(client, admin, name="Events", track_clicks=track)
    assert goal["track_clicks"] is track
    hook = webhook_channel(client, admin, url=sink.url_for("/hook"))
    created = client.post(
        f"{API}/posts",
        json={
            "text": TEXT,
            "link": LINK,
            "objective_ids": [goal["id"]],
            "channel_ids": [hook["id"]],
            "publish_now": True,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    clock.advance(seconds=1)
    drain(runtime)
    post = client.get(f"{API}/posts/{created.json()['id']}", headers=admin).json()
    assert post["status"] == "published", post
    [received] = sink.requests
    return post, received.json()


def code_of(url: str) -> str:
    prefix = "http://cadence.test/l/"
    assert url.startswith(prefix), url
    code = url[len(prefix) :]
    assert len(code) == CODE_LENGTH
    return code


def test_links_are_replaced_and_clicks_counted_bots_apart(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    post, sent = publish(client, admin, runtime, clock, sink, track=True)
    assert "example.org" not in sent["text"] and "example.com" not in sent["text"]
    assert sent["text"].startswith("Doors open at nine: see http://cadence.test/l/")
    link_code = code_of(sent["link"])
    words = sent["text"].split()
    map_code, shop_code = code_of(words[5]), code_of(words[-1])
    assert len({link_code, map_code, shop_code}) == 3

    answer = client.get(f"/l/{link_code}", headers={"User-Agent": BROWSER}, follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == LINK, "the UTM parameters the link carried stay"
    shop = client.get(f"/l/{shop_code}", headers={"User-Agent": BROWSER}, follow_redirects=False)
    assert shop.headers["location"] == "https://shop.example.com/t"
    for agent in (SLACKBOT, GOOGLEBOT, ""):
        bot = client.get(f"/l/{map_code}", headers={"User-Agent": agent}, follow_redirects=False)
        assert bot.status_code == 302
        assert bot.headers["location"] == "https://example.org/map"

    with runtime.sessions() as session:
        counts = {
            row.code: (row.clicks, row.bot_clicks) for row in session.scalars(select(TrackedLink))
        }
    assert counts == {link_code: (1, 0), shop_code: (1, 0), map_code: (0, 3)}
    again = client.get(f"{API}/posts/{post['id']}", headers=admin).json()
    assert again["deliveries"][0]["metrics"]["clicks"] == 2


def test_without_tracking_the_post_goes_out_as_written(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    sink: SinkServer,
) -> None:
    post, sent = publish(client, admin, runtime, clock, sink, track=False)
    assert (sent["text"], sent["link"]) == (TEXT, LINK)
    assert post["deliveries"][0]["metrics"] is None
    with runtime.sessions() as session:
        assert session.scalars(select(TrackedLink)).all() == []


@pytest.mark.parametrize(
    "path",
    [
        "/l/AAAAAAAAAA",
        "/l/short",
        "/l/https:%2F%2Fevil.example",
        "/l/" + "a" * 300,
        "/l/%2F%2Fevil.example",
    ],
)
def test_unknown_codes_are_404_never_a_redirect(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 404
    assert "location" not in answer.headers


def test_a_retried_delivery_keeps_its_codes(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    goal = objective(client, admin, track_clicks=True)
    hook = webhook_channel(client, admin)
    created = client.post(
        f"{API}/posts",
        json={
            "text": TEXT,
            "objective_ids": [goal["id"]],
            "channel_ids": [hook["id"]],
            "scheduled_at": "2026-11-24T10:00:00Z",
        },
        headers=admin,
    ).json()
    delivery = created["deliveries"][0]["id"]
    request = PublishRequest(delivery_id=delivery, post_id=created["id"], text=TEXT, link=LINK)
    job = Job(
        delivery_id=delivery,
        channel_id=hook["id"],
        platform="webhook",
        channel_config={},
        credentials_encrypted="",
        request=request,
        due_at=clock.now(),
        attempts=0,
    )
    sent = []
    for _ in range(2):
        with transaction(runtime.sessions) as session:
            [out] = track_links(session, [job], base_url="http://cadence.test/", now=clock.now())
        sent.append(out.request)
    assert sent[0] == sent[1]
    assert urls_in(request) == [LINK, "https://example.org/map", "shop.example.com/t"]
    assert "example" not in sent[0].text + str(sent[0].link)
    with runtime.sessions() as session:
        assert len(session.scalars(select(TrackedLink)).all()) == 3


def test_bots_by_the_crawler_list_in_bounded_time() -> None:
    assert is_bot(GOOGLEBOT) and is_bot(SLACKBOT) and is_bot(None)
    assert not is_bot(BROWSER)
    assert is_bot("Mozilla/5.0 " + "(" * 5000), "too long for a browser: not matched at all"


def test_track_clicks_is_a_strict_flag(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.post(
        f"{API}/objectives", json={"name": "Strict", "track_clicks": "yes"}, headers=admin
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "track_clicks"]
    made = objective(client, admin, name="Plain")
    assert made["track_clicks"] is False
    changed = client.patch(
        f"{API}/objectives/{made['id']}", json={"track_clicks": True}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["track_clicks"] is True
