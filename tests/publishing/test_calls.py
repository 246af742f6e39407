"""Building a channel's connector: settings validated once per channel and version."""

from __future__ import annotations

import pytest

from app.crypto import CredentialBox
from app.publishing.calls import NotSent, SettingsCache, call_guard_seconds
from connectors.base import MediaFile, OutcomeKind
from connectors.registry import get_platform

BOX = CredentialBox(["test-secret-key"])
WEBHOOK = get_platform("webhook")


def test_settings_are_reused_until_the_config_or_credentials_change() -> None:
    cache = SettingsCache()
    sealed = BOX.seal({"signing_secret": "one"})
    config = {"url": "https://intranet.example.org/hook"}
    first = cache.get(
        WEBHOOK, channel_id="c1", config=config, credentials_encrypted=sealed, box=BOX
    )
    again = cache.get(
        WEBHOOK, channel_id="c1", config=dict(config), credentials_encrypted=sealed, box=BOX
    )
    assert again is first
    resealed = BOX.seal({"signing_secret": "two"})
    renewed = cache.get(
        WEBHOOK, channel_id="c1", config=config, credentials_encrypted=resealed, box=BOX
    )
    assert renewed is not first
    assert renewed.credentials.signing_secret == "two"  # type: ignore[attr-defined]
    moved = cache.get(
        WEBHOOK,
        channel_id="c1",
        config={"url": "https://intranet.example.org/other"},
        credentials_encrypted=resealed,
        box=BOX,
    )
    assert moved.config.url == "https://intranet.example.org/other"  # type: ignore[attr-defined]


def test_unreadable_settings_are_not_sent_and_not_cached() -> None:
    cache = SettingsCache()
    with pytest.raises(NotSent) as caught:
        cache.get(
            WEBHOOK,
            channel_id="c1",
            config={"url": "ftp://nowhere"},
            credentials_encrypted=BOX.seal({}),
            box=BOX,
        )
    assert caught.value.kind == OutcomeKind.config_invalid
    assert caught.value.message.startswith("the channel's settings are no longer valid: url: ")
    with pytest.raises(NotSent) as caught:
        cache.get(
            WEBHOOK,
            channel_id="c1",
            config={"url": "https://intranet.example.org/hook"},
            credentials_encrypted=CredentialBox(["another key"]).seal({}),
            box=BOX,
        )
    assert caught.value.kind == OutcomeKind.credentials_unreadable


def test_the_guard_grows_with_the_media_to_upload(tmp_path: object) -> None:
    video = MediaFile("m1", "tour.mp4", "video/mp4", 256 * 1024 * 100, path=tmp_path)  # type: ignore[arg-type]
    assert call_guard_seconds(30) == 65
    assert call_guard_seconds(30, [video]) == 165
