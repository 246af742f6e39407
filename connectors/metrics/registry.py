"""Platform slug -> its metrics reader. Platforms without one (the internal chat and
e-mail channels, webhooks) get their figures from click tracking only."""

from __future__ import annotations

from connectors.metrics import MetricsReader
from connectors.metrics import bluesky as bluesky_metrics
from connectors.metrics import facebook as facebook_metrics
from connectors.metrics import flickr as flickr_metrics
from connectors.metrics import instagram as instagram_metrics
from connectors.metrics import linkedin as linkedin_metrics
from connectors.metrics import mastodon as mastodon_metrics
from connectors.metrics import vimeo as vimeo_metrics
from connectors.metrics import x as x_metrics
from connectors.metrics import yammer as yammer_metrics
from connectors.metrics import youtube as youtube_metrics

READERS: dict[str, MetricsReader] = {
    "x": x_metrics.READER,
    "facebook": facebook_metrics.READER,
    "youtube": youtube_metrics.READER,
    "flickr": flickr_metrics.READER,
    "yammer": yammer_metrics.READER,
    "mastodon": mastodon_metrics.READER,
    "bluesky": bluesky_metrics.READER,
    "linkedin": linkedin_metrics.READER,
    "vimeo": vimeo_metrics.READER,
    "instagram": instagram_metrics.READER,
}
