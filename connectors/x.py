"""X (Twitter): schemas and validation. Publishing through tweepy comes with the X connector."""

from __future__ import annotations

from pydantic import model_validator
from twitter_text import parse_tweet

from connectors.base import PlatformConfig, PlatformCredentials, Problem, PublishRequest
from connectors.rules import MB, media_count, media_types, text_required

MAX_WEIGHTED_LENGTH = 280
MEDIA = {
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 5 * MB,
    "image/gif": 15 * MB,
    "video/mp4": 512 * MB,
    "video/quicktime": 512 * MB,
}


class XConfig(PlatformConfig):
    username: str | None = None


class XCredentials(PlatformCredentials):
    """OAuth 1.0a user context (four keys) or an OAuth 2 user token with its refresh data."""

    consumer_key: str | None = None
    consumer_secret: str | None = None
    access_token: str | None = None
    access_token_secret: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    @model_validator(mode="after")
    def _one_complete_set(self) -> XCredentials:
        oauth1 = (
            self.consumer_key,
            self.consumer_secret,
            self.access_token,
            self.access_token_secret,
        )
        oauth2 = (self.access_token, self.refresh_token, self.client_id, self.client_secret)
        if not (all(oauth1) or all(oauth2)):
            raise ValueError(
                "give consumer_key, consumer_secret, access_token and access_token_secret "
                "(OAuth 1.0a), or access_token, refresh_token, client_id and client_secret (OAuth 2)"
            )
        return self


def weighted_length(text: str) -> int:
    """X's weighted length: URLs count 23, most non-Latin characters and emoji 2."""
    return int(parse_tweet(text).weightedLength)


def validate(request: PublishRequest) -> list[Problem]:
    problems = text_required(request)
    length = weighted_length(request.text)
    if length > MAX_WEIGHTED_LENGTH:
        problems.append(
            Problem("text", f"{length} of {MAX_WEIGHTED_LENGTH} characters as X counts them")
        )
    problems += media_types(request.media, MEDIA, "X")
    problems += media_count(request.media, max_images=4, max_videos=1)
    return problems
