"""Prometheus metrics: what this process measured, plus database gauges read at scrape time."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.posts.models import Delivery
from app.runtime import Runtime

PUBLISH_SECONDS = Histogram(
    "cadence_publish_duration_seconds",
    "Time a platform call took, from start to answer.",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LAG_SECONDS = Histogram(
    "cadence_publish_lag_seconds",
    "Delay between a delivery being due and its platform call starting.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
CLAIMS = Counter("cadence_claims_total", "Deliveries claimed by this process.", ["worker"])
OUTCOMES = Counter(
    "cadence_publish_outcomes_total", "Outcomes of platform calls.", ["platform", "outcome"]
)


class DatabaseCollector(Collector):
    """Deliveries by status and unresolved alerts by kind, counted when scraped."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        deliveries = GaugeMetricFamily(
            "cadence_deliveries", "Deliveries by status.", labels=["status"]
        )
        alerts = GaugeMetricFamily(
            "cadence_open_alerts", "Unresolved alerts by kind.", labels=["kind"]
        )
        with self.runtime.sessions() as session:
            for status, count in session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            ):
                deliveries.add_metric([status], count)
            for kind, count in session.execute(
                select(Alert.kind, func.count())
                .where(Alert.resolved_at.is_(None))
                .group_by(Alert.kind)
            ):
                alerts.add_metric([kind], count)
        yield deliveries
        yield alerts


def render(runtime: Runtime) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(runtime))
    return generate_latest(REGISTRY) + generate_latest(registry)


def scrape_allowed(token: str | None, authorization: str | None) -> bool:
    """Without CADENCE_METRICS_TOKEN anyone may scrape; with it, only "Bearer <token>"."""
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def serve_metrics(port: int, *, addr: str, token: str | None) -> None:
    """This process's metrics on http://addr:port/ (the worker's), behind the same token
    as the API's /metrics, from a daemon thread."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer

    metrics_app = make_wsgi_app()

    def guarded(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not scrape_allowed(token, environ.get("HTTP_AUTHORIZATION")):
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", "Bearer"), ("Content-Type", "text/plain")],
            )
            return [b"metrics need 'Authorization: Bearer <CADENCE_METRICS_TOKEN>'\n"]
        answer: Iterable[bytes] = metrics_app(environ, start_response)
        return answer

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not news
            pass

    server = make_server(addr, port, guarded, ThreadingWSGIServer, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
