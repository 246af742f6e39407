"""A Mastodon channel's own text limit: the instance's `configuration.statuses.
max_characters`, stored in the channel's config by its checks (the Test button, the
daily check), used by validation of scheduled posts and by the compose counter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.posts.rules import PlatformRules
from app.runtime import Runtime
from app.users.models import Role
from connectors.base import PublishRequest
from connectors.mastodon import MastodonConnector, with_text_limit
from connectors.registry import channel_platform, get_platform
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.helpers import LATER, objective, post
from tests.team.test_pages import person
from tests.test_platforms_e2e import channel
from tests.web.test_pages import csrf


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon(max_characters=1000) as made:
        yield made


def request(text: str) -> PublishRequest:
    return PublishRequest(delivery_id="", post_id="p", text=text)


def test_a_channel_limit_changes_the_measure_and_the_problems() -> None:
    default = get_platform("mastodon")
    own = channel_platform("mastodon", {"instance": "https://a.example", "max_characters": 1000})
    assert channel_platform("mastodon", {"instance": "https://a.example"}) is default
    assert own.connector is with_text_limit(1000) and issubclass(own.connector, MastodonConnector)
    text = "a" * 700
    assert default.measure(request(text)).over and default.validate(request(text))
    assert own.measure(request(text)).limit == 1000 and own.validate(request(text)) == []
    assert own.validate(request("a" * 1001))[0].message.startswith("1001 of 1000")
    # Other platforms ignore the field; a nonsense value leaves the default.
    assert channel_platform("x", {"max_characters": 1000}) is get_platform("x")
    assert channel_platform("mastodon", {"max_characters": True}) is default


def test_answers_are_kept_per_limit_not_only_per_platform() -> None:
    rules = PlatformRules(inline=True)
    text = "a" * 700
    small = rules.problems("mastodon", (text,), lambda: request(text), {"max_characters": 500})
    large = rules.problems("mastodon", (text,), lambda: request(text), {"max_characters": 1000})
    assert small and large == []


def test_a_channel_limit_counts_hostile_text_the_same_way() -> None:
    # The channel's class only changes the limit: the (linear) counting is the
    # platform's, so a long hostile text is measured as the default class measures it.
    own = channel_platform("mastodon", {"max_characters": 1_000_000})
    hostile = "@a@" * 30_000 + " https://" * 10_000
    assert (
        own.measure(request(hostile)).used
        == get_platform("mastodon").measure(request(hostile)).used
    )
    assert own.validate(request(hostile)) == []


def test_the_test_button_stores_the_instance_limit_and_posts_follow_it(
    client: TestClient, runtime: Runtime, admin: dict[str, str], fake: FakeMastodon
) -> None:
    channel_id = channel(client, admin, "mastodon", {"instance": fake.url}, {"access_token": TOKEN})
    goal = objective(client, admin)["id"]
    fields = {"channel_ids": [channel_id], "objective_ids": [goal], "scheduled_at": LATER}
    post(client, admin, expect=422, text="a" * 700, **fields)  # 500 until it is known

    tested = client.post(f"/api/v1/channels/{channel_id}/test", headers=admin)
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text
    stored = client.get(f"/api/v1/channels/{channel_id}", headers=admin).json()
    assert stored["config"]["max_characters"] == 1000

    post(client, admin, text="a" * 700, **fields)
    refused = client.post("/api/v1/posts", json={"text": "a" * 1001, **fields}, headers=admin)
    assert refused.status_code == 422 and "1001 of 1000" in refused.text

    editor = person(runtime, Role.editor, "e@example.org")
    token = csrf(editor, "/posts/new")
    counted = editor.post(
        "/web/validate",
        json={"text": "a" * 700, "channel_ids": [channel_id]},
        headers={"X-CSRF-Token": token},
    )
    assert counted.status_code == 200, counted.text
    [counter] = counted.json()["channels"]
    assert (counter["count"], counter["limit"], counter["over"]) == (700, 1000, False)

    fake.max_characters = 2000  # the instance raised it: the next check stores it
    client.post(f"/api/v1/channels/{channel_id}/test", headers=admin)
    stored = client.get(f"/api/v1/channels/{channel_id}", headers=admin).json()
    assert stored["config"]["max_characters"] == 2000
