"""Platform name -> what Cadence knows of it, read from the connector class.

Each connector class declares its own facts (slug, labels, audience, schemas,
`measure`, `limits`, `validate`); this module only lists the classes. A new platform
is one class and one line in CONNECTORS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import (
    Audience,
    Connector,
    Limits,
    Measure,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishRequest,
)
from connectors.bluesky import BlueskyConnector
from connectors.email import EmailConnector
from connectors.facebook import FacebookConnector
from connectors.flickr import FlickrConnector
from connectors.instagram import InstagramConnector
from connectors.linkedin import LinkedInConnector
from connectors.mastodon import MastodonConnector
from connectors.sharepoint import SharePointConnector
from connectors.vimeo import VimeoConnector
from connectors.webhooks import (
    MattermostConnector,
    SlackConnector,
    TeamsConnector,
    WebhookConnector,
)
from connectors.x import XConnector
from connectors.yammer import YammerConnector
from connectors.youtube import YouTubeConnector

# In the order people pick from: public platforms, then internal ones.
CONNECTORS: tuple[type[Connector], ...] = (
    XConnector,
    FacebookConnector,
    YouTubeConnector,
    FlickrConnector,
    LinkedInConnector,
    InstagramConnector,
    MastodonConnector,
    BlueskyConnector,
    VimeoConnector,
    YammerConnector,
    SharePointConnector,
    SlackConnector,
    TeamsConnector,
    MattermostConnector,
    EmailConnector,
    WebhookConnector,
)


@dataclass(frozen=True)
class Platform:
    """A view of one connector class's declared facts, under the names callers use."""

    connector: type[Connector]

    @property
    def name(self) -> str:
        return self.connector.slug

    @property
    def label(self) -> str:
        return self.connector.label

    @property
    def audience(self) -> Audience | None:
        return self.connector.audience

    @property
    def config_model(self) -> type[PlatformConfig]:
        return self.connector.config_model

    @property
    def credentials_model(self) -> type[PlatformCredentials]:
        return self.connector.credentials_model

    @property
    def limits(self) -> Limits:
        return self.connector.limits

    def measure(self, request: PublishRequest) -> Measure:
        return self.connector.measure(request)

    def validate(self, request: PublishRequest) -> list[Problem]:
        return self.connector.validate(request)


def _by_slug(connectors: tuple[type[Connector], ...]) -> dict[str, Platform]:
    platforms: dict[str, Platform] = {}
    for connector in connectors:
        if connector.slug in platforms:
            raise ValueError(f"two connectors declare the slug {connector.slug!r}")
        platforms[connector.slug] = Platform(connector)
    return platforms


PLATFORMS: dict[str, Platform] = _by_slug(CONNECTORS)


def get_platform(name: str) -> Platform:
    return PLATFORMS[name]


def channel_platform(name: str, config: Mapping[str, Any] | None) -> Platform:
    """The platform's rules for one channel's config (a Mastodon instance's own limit)."""
    platform = PLATFORMS[name]
    connector = platform.connector.for_config(config)
    return platform if connector is platform.connector else Platform(connector)
