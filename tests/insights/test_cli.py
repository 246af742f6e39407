"""`cadence metrics collect` and `cadence digest send`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.cli import main
from app.config import get_settings
from app.insights.models import DeliveryMetric, Digest
from app.runtime import Runtime
from tests.fakes import x
from tests.helpers import webhook_channel
from tests.insights.conftest import published, x_channel


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("CADENCE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("CADENCE_SECRET_KEY", "test-secret-key-of-at-least-32-bytes")
    monkeypatch.setenv("CADENCE_RETIRED_SECRET_KEYS", "test-secret-key")
    monkeypatch.setenv("CADENCE_OUTBOUND_ALLOW", "127.0.0.1")
    get_settings.cache_clear()
    try:
        yield CliRunner()
    finally:
        get_settings.cache_clear()


def test_metrics_collect_reads_the_last_30_days_now(
    cli: CliRunner, client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    with x.FakeX() as fake:
        fake.public_metrics = {"1800000000000000001": {"like_count": 3}}
        channel = x_channel(client, admin, fake)
        # The command runs on the real clock.
        made = published(
            client,
            admin,
            runtime,
            channel,
            ["1800000000000000001"],
            at=datetime.now(UTC) - timedelta(minutes=10),
        )
        result = cli.invoke(main, ["metrics", "collect"])
    assert result.exit_code == 0, result.output
    assert "metrics collected: 1 delivery(ies) read" in result.output
    with runtime.sessions() as session:
        [likes] = session.scalars(
            select(DeliveryMetric.likes).where(DeliveryMetric.delivery_id == made[0][1])
        ).all()
    assert likes == 3


def test_digest_send_once(
    cli: CliRunner, client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    webhook_channel(client, admin, receives_alerts=True)
    first = cli.invoke(main, ["digest", "send", "--week", "2026-11-18"])
    assert first.exit_code == 0, first.output
    assert "digest of the week of 2026-11-16 queued" in first.output
    again = cli.invoke(main, ["digest", "send", "--week", "2026-11-16"])
    assert again.exit_code == 0 and "was sent already" in again.output
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1
