"""Platform name -> what Cadence knows of it: audience, schemas, validation, connector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from connectors import email, facebook, flickr, webhooks, x, yammer, youtube
from connectors.base import (
    Connector,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishRequest,
)

Audience = Literal["external", "internal"]


@dataclass(frozen=True)
class Platform:
    name: str
    label: str
    # None: the channel's creator chooses (JSON webhooks can go anywhere).
    audience: Audience | None
    config_model: type[PlatformConfig]
    credentials_model: type[PlatformCredentials]
    validate: Callable[[PublishRequest], list[Problem]]
    connector: type[Connector]


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(
            "x",
            "X",
            "external",
            x.XConfig,
            x.XCredentials,
            x.validate,
            connector=x.XConnector,
        ),
        Platform(
            "facebook",
            "Facebook Page",
            "external",
            facebook.FacebookConfig,
            facebook.FacebookCredentials,
            facebook.validate,
            connector=facebook.FacebookConnector,
        ),
        Platform(
            "youtube",
            "YouTube",
            "external",
            youtube.YouTubeConfig,
            youtube.YouTubeCredentials,
            youtube.validate,
            connector=youtube.YouTubeConnector,
        ),
        Platform(
            "flickr",
            "Flickr",
            "external",
            flickr.FlickrConfig,
            flickr.FlickrCredentials,
            flickr.validate,
            connector=flickr.FlickrConnector,
        ),
        Platform(
            "yammer",
            "Yammer / Viva Engage",
            "internal",
            yammer.YammerConfig,
            yammer.YammerCredentials,
            yammer.validate,
            connector=yammer.YammerConnector,
        ),
        Platform(
            "slack",
            "Slack",
            "internal",
            webhooks.ChatConfig,
            webhooks.ChatCredentials,
            webhooks.validate_slack,
            connector=webhooks.SlackConnector,
        ),
        Platform(
            "teams",
            "Microsoft Teams",
            "internal",
            webhooks.ChatConfig,
            webhooks.ChatCredentials,
            webhooks.validate_teams,
            connector=webhooks.TeamsConnector,
        ),
        Platform(
            "mattermost",
            "Mattermost",
            "internal",
            webhooks.ChatConfig,
            webhooks.ChatCredentials,
            webhooks.validate_mattermost,
            connector=webhooks.MattermostConnector,
        ),
        Platform(
            "email",
            "E-mail",
            "internal",
            email.EmailConfig,
            email.EmailCredentials,
            email.validate,
            connector=email.EmailConnector,
        ),
        Platform(
            "webhook",
            "JSON webhook",
            None,
            webhooks.WebhookConfig,
            webhooks.WebhookCredentials,
            webhooks.validate_webhook,
            connector=webhooks.WebhookConnector,
        ),
    )
}


def get_platform(name: str) -> Platform:
    return PLATFORMS[name]
