"""Connect with one click, in Chromium against `cadence serve` and each platform's
fake: the admin clicks Connect, approves on the (fake) consent page, picks where the
platform offers several, lands on the new channel; through X and Slack a post then
goes out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes import (
    facebook,
    flickr,
    instagram,
    linkedin,
    mastodon,
    sharepoint,
    slack,
    vimeo,
    x,
    yammer,
    youtube,
)
from tests.web.conftest import Server, log_in
from tests.web.test_accessibility import violations


class Fakes:
    def __init__(self) -> None:
        self.x = x.FakeX()
        self.slack = slack.FakeSlack()
        self.youtube = youtube.FakeYouTube(access_token=None)
        self.facebook = facebook.FakeFacebook()
        self.yammer = yammer.YammerFake()
        self.flickr = flickr.FakeFlickr()
        self.linkedin = linkedin.FakeLinkedIn()
        self.vimeo = vimeo.FakeVimeo()
        self.sharepoint = sharepoint.FakeSharePoint()
        self.instagram = instagram.FakeInstagram()
        self.mastodon = mastodon.FakeMastodon(max_characters=1000)
        self.all = [self.x, self.slack, self.youtube, self.facebook, self.yammer, self.flickr]
        self.all += [self.linkedin, self.vimeo, self.sharepoint, self.instagram, self.mastodon]


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    made = Fakes()
    for fake in made.all:
        fake.start()
    yield made
    for fake in made.all:
        fake.stop()


@pytest.fixture(scope="module")
def server_env(fakes: Fakes) -> dict[str, str]:
    apps = {
        "X": (x.CLIENT_ID, x.CLIENT_SECRET, fakes.x.url),
        "SLACK": (slack.CLIENT_ID, slack.CLIENT_SECRET, fakes.slack.url),
        "YOUTUBE": (youtube.CLIENT_ID, youtube.CLIENT_SECRET, fakes.youtube.url),
        "FACEBOOK": (facebook.APP_ID, facebook.APP_SECRET, fakes.facebook.url),
        "YAMMER": (yammer.CLIENT_ID, yammer.CLIENT_SECRET, fakes.yammer.url),
        "FLICKR": (flickr.CONSUMER_KEY, flickr.CONSUMER_SECRET, fakes.flickr.url),
        "LINKEDIN": (linkedin.CLIENT_ID, linkedin.CLIENT_SECRET, fakes.linkedin.url),
        "VIMEO": (vimeo.CLIENT_ID, vimeo.CLIENT_SECRET, fakes.vimeo.url),
        "SHAREPOINT": (sharepoint.CLIENT_ID, sharepoint.CLIENT_SECRET, fakes.sharepoint.url),
        "INSTAGRAM": (instagram.APP_ID, instagram.APP_SECRET, fakes.instagram.url),
    }
    env = {"CADENCE_YAMMER_TENANT": yammer.TENANT, "CADENCE_SHAREPOINT_TENANT": sharepoint.TENANT}
    for name, (client_id, secret, base) in apps.items():
        env[f"CADENCE_{name}_CLIENT_ID"] = client_id
        env[f"CADENCE_{name}_CLIENT_SECRET"] = secret
        env[f"CADENCE_{name}_BASE_URL"] = base
    return env


def connect(page: Any, label: str, consent: str, pick: str | None = None) -> str:
    """Click Connect, approve, pick; the new channel's id."""
    log_in(page)
    page.goto("/channels")
    page.get_by_role("link", name=f"Connect {label}").click()
    page.get_by_role("button", name=consent).click()
    if pick is not None:
        page.wait_for_url("**/choose?flow=*")
        assert violations(page) == []  # the chooser is only reached through a flow
        page.get_by_label(pick).check()
        page.get_by_role("button", name="Connect").click()
    page.wait_for_url("**/channels/*?notice=connected")
    assert page.get_by_text("The account is connected.").is_visible()
    return str(page.url.split("/channels/")[1].split("?")[0])


def post_now(server: Server, channel_id: str, text: str) -> None:
    objective = server.objective(f"Connected {text}")
    created = server.api.post(
        "/posts",
        json={
            "text": text,
            "channel_ids": [channel_id],
            "objective_ids": [objective["id"]],
            "publish_now": True,
        },
    )
    assert created.status_code == 201, created.text


def wait_for(found: Any) -> None:
    deadline = time.monotonic() + 30
    while not found() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_connect_x_approve_land_on_the_channel_and_publish(
    page: Any, server: Server, fakes: Fakes
) -> None:
    channel_id = connect(page, "X", "Authorize app")
    channel = server.api.get(f"/channels/{channel_id}").json()
    assert channel["platform"] == "x" and channel["config"]["username"] == x.USERNAME
    post_now(server, channel_id, "Posted through a connected account")
    wait_for(lambda: fakes.x.tweets)
    assert [t.text for t in fakes.x.tweets] == ["Posted through a connected account"]
    assert fakes.x.tweets[0].auth == "oauth2"


def test_add_to_slack_and_publish(page: Any, server: Server, fakes: Fakes) -> None:
    channel_id = connect(page, "Slack", "Authorize app")
    post_now(server, channel_id, "Hello from Cadence")
    wait_for(lambda: fakes.slack.messages)
    assert [m["text"] for m in fakes.slack.messages] == ["Hello from Cadence"]


@pytest.mark.parametrize(
    ("label", "consent", "pick", "platform"),
    [
        ("YouTube", "Authorize app", f"YouTube {youtube.CHANNEL_TITLE}", "youtube"),
        ("Facebook Pages", "Authorize app", f"Facebook {facebook.PAGE_NAME}", "facebook"),
        ("Viva Engage", "Authorize app", f"Viva Engage Comms {yammer.GROUP_ID}", "yammer"),
        ("Flickr", "OK, I'll authorize it", None, "flickr"),
        ("LinkedIn Page", "Authorize app", "LinkedIn Community Kitchen", "linkedin"),
        ("Vimeo", "Authorize app", None, "vimeo"),
        ("SharePoint", "Authorize app", "SharePoint Staff news", "sharepoint"),
        ("Instagram", "Authorize app", f"Instagram @{instagram.USERNAME}", "instagram"),
    ],
)
def test_connect_lands_on_the_new_channel(
    page: Any, server: Server, label: str, consent: str, pick: str | None, platform: str
) -> None:
    channel_id = connect(page, label, consent, pick)
    assert server.api.get(f"/channels/{channel_id}").json()["platform"] == platform
    tested = server.api.post(f"/channels/{channel_id}/test")
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text


def test_connect_mastodon_type_the_instance_approve_land_on_the_channel(
    page: Any, server: Server, fakes: Fakes
) -> None:
    log_in(page)
    page.goto("/channels")
    page.get_by_role("link", name="Connect Mastodon").click()
    page.wait_for_url("**/channels/connect/mastodon")
    assert violations(page) == []
    page.get_by_label("Instance address").fill(fakes.mastodon.url)
    page.get_by_role("button", name="Continue").click()
    link = page.get_by_role("link", name=f"Sign in at {fakes.mastodon.url}")
    link.wait_for()
    assert violations(page) == []
    link.click()
    page.get_by_role("button", name="Authorize app").click()
    page.wait_for_url("**/channels/*?notice=connected")
    channel_id = str(page.url.split("/channels/")[1].split("?")[0])
    channel = server.api.get(f"/channels/{channel_id}").json()
    assert channel["platform"] == "mastodon" and channel["config"]["max_characters"] == 1000
