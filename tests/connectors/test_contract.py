"""The connector contract, run over every internal-sink connector against its fake platform.

Webhook, Slack, Teams and Mattermost run on both httpx transports (the default and
httpx-aiohttp, production's); e-mail runs against a real aiosmtpd server.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta
from email.utils import format_datetime

import pytest

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    Permanent,
    PublishError,
    PublishResult,
    RateLimited,
    Transient,
)
from tests.connectors.conftest import ALL_IDS, HTTP_IDS, NOW
from tests.connectors.harnesses import Harness

SHORT_TIMEOUT = 0.2  # for "no answer in time": the fake hangs far longer

# Loggers of the fake platforms themselves (aiosmtpd logs the SMTP dialogue, AUTH included).
FAKE_LOGGERS = ("mail.log", "aiohttp.server", "aiohttp.access", "aiohttp.web")


def test_success_reports_the_platform_result_after_one_delivery(harness: Harness) -> None:
    expected = harness.succeed()

    outcome = harness.publish()

    assert outcome == expected
    assert harness.deliveries() == 1


@pytest.mark.parametrize("harness", HTTP_IDS, indirect=True)
def test_rate_limit_waits_the_seconds_the_platform_names(harness: Harness) -> None:
    harness.rate_limit("30")

    outcome = harness.publish(now=lambda: NOW)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(seconds=30)


@pytest.mark.parametrize("harness", HTTP_IDS, indirect=True)
def test_rate_limit_waits_until_the_date_the_platform_names(harness: Harness) -> None:
    until = NOW + timedelta(minutes=5)
    harness.rate_limit(format_datetime(until, usegmt=True))

    outcome = harness.publish(now=lambda: NOW)

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == until


def test_temporary_failure_is_transient(harness: Harness) -> None:
    harness.fail_temporarily()

    outcome = harness.publish()

    assert isinstance(outcome, Transient), outcome


def test_dead_webhook_or_login_is_auth_expired(harness: Harness) -> None:
    harness.kill_credentials()

    outcome = harness.publish()

    assert isinstance(outcome, AuthExpired), outcome


def test_refused_content_is_permanent_with_the_platform_message(harness: Harness) -> None:
    words = harness.refuse_content()

    outcome = harness.publish()

    assert isinstance(outcome, Permanent), outcome
    assert words in outcome.message


def test_connection_refused_is_transient(harness: Harness) -> None:
    outcome = harness.publish(refused=True)

    assert isinstance(outcome, Transient), outcome
    assert harness.deliveries() == 0


def test_no_answer_within_the_timeout_is_ambiguous(harness: Harness) -> None:
    harness.hang()

    outcome = harness.publish(timeout=SHORT_TIMEOUT)

    assert isinstance(outcome, Ambiguous), outcome


def test_connection_closed_without_an_answer_is_ambiguous(harness: Harness) -> None:
    harness.hang_up()

    outcome = harness.publish()

    assert isinstance(outcome, Ambiguous), outcome


def test_check_posts_nothing(harness: Harness) -> None:
    result = harness.check()

    assert isinstance(result, CheckResult)
    assert result.ok, result.detail
    assert harness.deliveries() in (0, 1)  # Slack's check is an empty POST it refuses
    if harness.name == "email":
        assert harness.deliveries() == 0
    else:
        for recorded in harness.sink.requests:  # type: ignore[attr-defined]
            assert b"Bake sale" not in recorded.body


def test_check_reports_an_unreachable_platform(harness: Harness) -> None:
    result = harness.check(refused=True)

    assert isinstance(result, CheckResult)
    assert not result.ok
    assert result.detail


@pytest.mark.parametrize("harness", ALL_IDS, indirect=True)
def test_secrets_stay_out_of_errors_and_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outcomes: list[PublishResult | PublishError] = []
    scenarios = [
        harness.succeed,
        harness.fail_temporarily,
        harness.kill_credentials,
        harness.refuse_content,
        harness.hang_up,
    ]
    if harness.supports_rate_limit:
        scenarios.append(lambda: harness.rate_limit("5"))
    for arrange in scenarios:
        arrange()
        outcomes.append(harness.publish())
        if harness.name == "email":  # the SMTP fake's behaviour persists: reset it
            harness.server.behaviour.__init__()  # type: ignore[attr-defined, misc]
    outcomes.append(harness.publish(refused=True))
    harness.hang()
    outcomes.append(harness.publish(timeout=SHORT_TIMEOUT))
    checks = [harness.check(), harness.check(refused=True)]

    errors = [o for o in outcomes if isinstance(o, PublishError)]
    assert len(errors) == len(outcomes) - 1  # all but the success
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += ["".join(traceback.format_exception(e)) for e in errors]
    texts += [c.detail for c in checks if isinstance(c, CheckResult)]
    texts += [
        r.getMessage() + repr(r.__dict__)
        for r in caplog.records
        if not r.name.startswith(FAKE_LOGGERS)
    ]
    assert caplog.records or harness.name == "email"  # httpx logs each request
    for secret in harness.secrets:
        for text in texts:
            assert secret not in text
