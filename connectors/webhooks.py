"""Webhook-family sinks: JSON webhook, Slack, Microsoft Teams, Mattermost. Schemas and validation."""

from __future__ import annotations

from connectors.base import (
    HttpUrlStr,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishRequest,
)
from connectors.rules import max_chars, text_required

SLACK_MAX_TEXT = 40_000
MATTERMOST_MAX_TEXT = 16_383
TEAMS_MAX_TEXT = 25_000  # the whole card must stay under Teams' 28 KB message size


class WebhookConfig(PlatformConfig):
    url: HttpUrlStr


class WebhookCredentials(PlatformCredentials):
    signing_secret: str | None = None


class ChatConfig(PlatformConfig):
    username: str | None = None


class ChatCredentials(PlatformCredentials):
    webhook_url: HttpUrlStr


def validate_webhook(request: PublishRequest) -> list[Problem]:
    return text_required(request)


def validate_slack(request: PublishRequest) -> list[Problem]:
    return text_required(request) + max_chars(request.text, SLACK_MAX_TEXT, "text")


def validate_mattermost(request: PublishRequest) -> list[Problem]:
    return text_required(request) + max_chars(request.text, MATTERMOST_MAX_TEXT, "text")


def validate_teams(request: PublishRequest) -> list[Problem]:
    return text_required(request) + max_chars(request.text, TEAMS_MAX_TEXT, "text")
