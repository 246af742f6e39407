"""X threads and Facebook first comments: validated part by part, published after the
post, every part that is out listed, and a retry that goes on from the first part not
out without sending one again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.publishing.dispatcher import Dispatcher
from app.runtime import Runtime
from tests.fakes import facebook, x
from tests.fakes.sinks import json_answer
from tests.helpers import API, LATER, locs, objective, post, row_counts, webhook_channel
from tests.test_platforms_e2e import channel


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    with x.FakeX() as fake_x, facebook.FakeFacebook() as fake_fb:
        yield {"x": fake_x, "facebook": fake_fb}


@pytest.fixture
def world(client: TestClient, admin: dict[str, str], fakes: dict[str, Any]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "hook": webhook_channel(client, admin)["id"],
        "x": channel(
            client,
            admin,
            "x",
            {"username": x.USERNAME, "api_base": fakes["x"].url},
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
            {"page_id": facebook.PAGE_ID, "api_base": fakes["facebook"].url},
            {"page_access_token": facebook.PAGE_TOKEN},
        ),
    }


def _post(
    client: TestClient, headers: dict[str, str], world: dict[str, Any], channel: str, **f: Any
) -> dict[str, Any]:
    return post(
        client,
        headers,
        text=f.pop("text", "Open day on Saturday: a thread"),
        objective_ids=[world["objective"]],
        channel_ids=[world[channel]],
        scheduled_at=LATER,
        **f,
    )


def _publish(runtime: Runtime) -> None:
    async def run() -> None:
        dispatcher = Dispatcher(runtime)
        try:
            await dispatcher.drain()
        finally:
            await dispatcher.http.aclose()

    asyncio.run(run())


def _delivery(client: TestClient, headers: dict[str, str], post_id: str) -> dict[str, Any]:
    (delivery,) = client.get(f"{API}/posts/{post_id}", headers=headers).json()["deliveries"]
    return delivery  # type: ignore[no-any-return]


def test_threads_and_first_comments_go_only_where_the_platform_has_them(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    body = {
        "text": "Open day",
        "objective_ids": [world["objective"]],
        "scheduled_at": LATER,
    }
    cases = [
        ({"channel_ids": [world["hook"]], "thread": ["More"]}, ["body.thread"]),
        ({"channel_ids": [world["x"]], "first_comment": "Hi"}, ["body.first_comment"]),
        ({"channel_ids": [world["facebook"]], "thread": ["More"]}, ["body.thread"]),
        # Part by part, by X's own rules.
        ({"channel_ids": [world["x"]], "thread": ["Fine", "x" * 281]}, ["body.thread.1"]),
        ({"channel_ids": [world["x"]], "thread": ["Fine", ""]}, ["body.thread.1"]),
    ]
    for fields, expected in cases:
        response = client.post(f"{API}/posts", json={**body, **fields}, headers=editor)
        assert response.status_code == 422, fields
        assert locs(response) == expected, fields
    assert row_counts(runtime) == before
    # Not even in a draft may a thread go where there are no threads.
    draft = {"status": "draft", "channel_ids": [world["hook"]], "thread": ["More"]}
    assert client.post(f"{API}/posts", json=draft, headers=editor).status_code == 422


def test_a_thread_goes_out_as_replies_and_a_retry_goes_on_from_the_failed_part(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    clock: FrozenClock,
    fakes: dict[str, Any],
) -> None:
    fx = fakes["x"]
    created = _post(client, editor, world, "x", thread=["Second part", "Third part"])
    assert created["thread"] == ["Second part", "Third part"]
    # The third part is refused as a duplicate of a post the account made before.
    fx.tweets.append(x.Tweet("1", "Third part", [], "oauth1"))
    clock.set(clock.now().replace(day=24, hour=10))
    _publish(runtime)

    delivery = _delivery(client, editor, created["id"])
    assert delivery["status"] == "failed", delivery
    first, second = fx.tweets[1:]
    assert (first.text, first.in_reply_to) == ("Open day on Saturday: a thread", None)
    assert (second.text, second.in_reply_to) == ("Second part", first.id)
    assert [(p["index"], p["external_id"]) for p in delivery["parts"]] == [
        (0, first.id),
        (1, second.id),
    ]
    assert delivery["parts"][1]["permalink"] == f"https://x.com/{x.USERNAME}/status/{second.id}"

    # What is out stays as it was: the post can no longer be edited, only retried.
    response = client.patch(
        f"{API}/posts/{created['id']}", json={"text": "Changed"}, headers=editor
    )
    assert response.status_code == 409, response.text

    fx.tweets.pop(0)  # the old post is deleted: the part can go now
    response = client.post(f"{API}/deliveries/{delivery['id']}/retry", headers=editor)
    assert response.status_code == 200, response.text
    _publish(runtime)
    delivery = _delivery(client, editor, created["id"])
    assert delivery["status"] == "published", delivery
    assert delivery["external_id"] == first.id
    # Only the third part was sent, in reply to the second: nothing went twice.
    assert [t.text for t in fx.tweets] == [
        "Open day on Saturday: a thread",
        "Second part",
        "Third part",
    ]
    assert fx.tweets[2].in_reply_to == second.id
    assert [p["index"] for p in delivery["parts"]] == [0, 1, 2]


def test_a_first_comment_follows_the_facebook_post_and_is_retried_alone(
    client: TestClient,
    editor: dict[str, str],
    world: dict[str, Any],
    runtime: Runtime,
    clock: FrozenClock,
    fakes: dict[str, Any],
) -> None:
    ffb = fakes["facebook"]
    created = _post(client, editor, world, "facebook", first_comment="Tickets: see the link")
    clock.set(clock.now().replace(day=24, hour=10))
    _publish(runtime)
    delivery = _delivery(client, editor, created["id"])
    assert delivery["status"] == "published", delivery
    [page_post] = ffb.posts
    [comment] = ffb.comments
    assert (comment.post_id, comment.message) == (page_post.id, "Tickets: see the link")
    assert [(p["index"], p["external_id"]) for p in delivery["parts"]] == [
        (0, page_post.id),
        (1, comment.id),
    ]

    # Facebook says the post went out, but the comment finds no such post: failed,
    # with the post listed; once the post is there, a retry adds only the comment.
    other = _post(client, editor, world, "facebook", text="Second post", first_comment="More")
    ghost = f"{facebook.PAGE_ID}_42"
    ffb.answer_next(json_answer(200, {"id": ghost}))
    _publish(runtime)
    delivery = _delivery(client, editor, other["id"])
    assert delivery["status"] == "failed", delivery
    assert [(p["index"], p["external_id"]) for p in delivery["parts"]] == [(0, ghost)]
    ffb.posts.append(facebook.Post(id=ghost, message="Second post"))
    assert (
        client.post(f"{API}/deliveries/{delivery['id']}/retry", headers=editor).status_code == 200
    )
    _publish(runtime)
    delivery = _delivery(client, editor, other["id"])
    assert delivery["status"] == "published", delivery
    assert len(ffb.posts) == 2 and ffb.comments[-1].post_id == ghost
    assert [p["index"] for p in delivery["parts"]] == [0, 1]
