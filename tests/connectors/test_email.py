"""The e-mail connector against a real SMTP server (aiosmtpd): the message it builds,
TLS (STARTTLS and implicit), login, and how each SMTP answer maps to an error kind."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal

import pytest

from connectors.base import (
    Ambiguous,
    AuthExpired,
    CheckResult,
    Permanent,
    PublishError,
    PublishRequest,
    PublishResult,
    Transient,
)
from connectors.email import EmailConfig, EmailConnector, EmailCredentials, subject
from tests.connectors.conftest import NOW, closed_port
from tests.connectors.harnesses import FAKES_ALLOWED, REQUEST
from tests.connectors.smtp import PASSWORD, USERNAME, SmtpServer, TlsFiles

Security = Literal["starttls", "ssl", "none"]
TO = ["staff@example.org", "volunteers@example.org"]


def connector(
    server: SmtpServer,
    *,
    security: Security = "none",
    username: str | None = USERNAME,
    password: str | None = PASSWORD,
    timeout: float = 2.0,
    port: int | None = None,
) -> EmailConnector:
    return EmailConnector(
        EmailConfig(
            host=server.host,
            port=port or server.port,
            security=security,
            from_address="comms@example.org",
            to_addresses=TO,
            timeout=timeout,
        ),
        EmailCredentials(username=username, password=password),
        None,
        now=lambda: NOW,
        outbound=FAKES_ALLOWED,
    )


def publish(c: EmailConnector, request: PublishRequest = REQUEST) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        try:
            return await c.publish(request)
        except PublishError as exc:
            return exc

    return asyncio.run(go())


def check(c: EmailConnector) -> CheckResult:
    return asyncio.run(c.check())


@pytest.fixture
def trusted_ca(tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    """The private CA in the process's trust store, as an operator would add it."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))


@pytest.fixture
def starttls_server(tls_files: TlsFiles) -> object:
    with SmtpServer(tls=tls_files, mode="starttls") as server:
        yield server


@pytest.fixture
def ssl_server(tls_files: TlsFiles) -> object:
    with SmtpServer(tls=tls_files, mode="ssl") as server:
        yield server


def test_one_message_with_the_right_headers_and_body(smtp_server: SmtpServer) -> None:
    outcome = publish(connector(smtp_server))

    assert outcome == PublishResult(external_id="<dlv-0001@cadence>")
    [received] = smtp_server.received
    assert received.mail_from == "comms@example.org"
    assert received.rcpt_tos == TO
    msg = received.message
    assert msg["Subject"] == "Bake sale"
    assert msg["From"] == "comms@example.org"
    assert msg["To"] == "staff@example.org, volunteers@example.org"
    assert msg["Message-ID"] == "<dlv-0001@cadence>"
    assert msg["Date"] == format_datetime(NOW)
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert msg.get_content_type() == "text/plain"
    body = msg.get_content().replace("\r\n", "\n")  # SMTP carries CRLF line ends
    assert body == f"{REQUEST.text}\n\n{REQUEST.link}\n"
    assert smtp_server.logins == [USERNAME]


def test_a_resend_carries_the_same_message_id(smtp_server: SmtpServer) -> None:
    publish(connector(smtp_server))
    publish(connector(smtp_server))

    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert ids == ["<dlv-0001@cadence>", "<dlv-0001@cadence>"]


def test_non_ascii_text_and_subject(smtp_server: SmtpServer) -> None:
    request = replace(REQUEST, title="Café für alle ☕", text="Grüße — “bis bald”", link=None)

    publish(connector(smtp_server), request)

    msg = smtp_server.received[0].message
    assert msg["Subject"] == "Café für alle ☕"
    assert msg.get_content() == "Grüße — “bis bald”\r\n"


def test_subject_falls_back_to_the_first_line_and_is_cut() -> None:
    assert subject(replace(REQUEST, title=None, text="\n  First   line \nsecond")) == "First line"
    long = subject(replace(REQUEST, title="word " * 40))
    assert len(long) == 78 and long.endswith("…")
    assert (
        subject(replace(REQUEST, title="Evil\r\nBcc: x@example.org")) == "Evil Bcc: x@example.org"
    )


def test_no_login_without_credentials(smtp_server: SmtpServer) -> None:
    outcome = publish(connector(smtp_server, username=None, password=None))

    assert isinstance(outcome, PublishResult)
    assert smtp_server.logins == []
    assert len(smtp_server.received) == 1


def test_starttls_with_a_trusted_private_ca(starttls_server: SmtpServer, trusted_ca: None) -> None:
    c = connector(starttls_server, security="starttls")

    assert publish(c) == PublishResult(external_id="<dlv-0001@cadence>")
    assert starttls_server.logins == [USERNAME]
    assert len(starttls_server.received) == 1


def test_starttls_verifies_the_certificate_against_the_system_store(
    starttls_server: SmtpServer,
) -> None:
    outcome = publish(connector(starttls_server, security="starttls"))

    assert isinstance(outcome, Permanent)
    assert outcome.code == "certificate"
    assert starttls_server.received == []


def test_plain_connection_to_a_server_requiring_starttls_is_permanent(
    starttls_server: SmtpServer,
) -> None:
    outcome = publish(connector(starttls_server, security="none", username=None, password=None))

    assert isinstance(outcome, Permanent)
    assert "STARTTLS" in outcome.message


def test_implicit_tls(ssl_server: SmtpServer, trusted_ca: None) -> None:
    c = connector(ssl_server, security="ssl")

    assert publish(c) == PublishResult(external_id="<dlv-0001@cadence>")
    assert ssl_server.logins == [USERNAME]
    assert ssl_server.received[0].message["Message-ID"] == "<dlv-0001@cadence>"


def test_wrong_password_is_auth_expired_without_the_password(
    starttls_server: SmtpServer, trusted_ca: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = connector(starttls_server, security="starttls")
    c.credentials.password = "wrong-Pa55word-secret!"

    outcome = publish(c)

    assert isinstance(outcome, AuthExpired)
    assert "535" in outcome.message
    assert "wrong-Pa55word-secret!" not in outcome.message
    assert starttls_server.received == []


@pytest.mark.parametrize(
    ("arrange", "kind", "words"),
    [
        (
            {"rcpt": "550 5.1.1 <x>: Recipient address rejected: User unknown"},
            Permanent,
            "User unknown",
        ),
        (
            {"rcpt": "450 4.2.0 <x>: Recipient address rejected: Greylisted"},
            Transient,
            "Greylisted",
        ),
        (
            {"mail": "553 5.7.1 Sender address rejected: not owned by user"},
            Permanent,
            "not owned by user",
        ),
        ({"mail": "421 4.7.0 Try again later"}, Transient, "Try again later"),
        ({"data": "552 5.3.4 Message size exceeds fixed limit"}, Permanent, "size exceeds"),
        ({"data": "451 4.3.0 Temporary lookup failure"}, Transient, "Temporary lookup failure"),
        ({"mail_hangup": True}, Transient, "before sending"),
        ({"data_hangup": True}, Ambiguous, "during DATA"),
    ],
)
def test_smtp_answers(
    smtp_server: SmtpServer, arrange: dict[str, object], kind: type[PublishError], words: str
) -> None:
    for name, value in arrange.items():
        setattr(smtp_server.behaviour, name, value)

    outcome = publish(connector(smtp_server))

    assert type(outcome) is kind, outcome
    assert words in outcome.message
    assert PASSWORD not in outcome.message


def test_timeout_during_data_is_ambiguous(smtp_server: SmtpServer) -> None:
    smtp_server.behaviour.data_hang = 5

    outcome = publish(connector(smtp_server, timeout=0.2))

    assert isinstance(outcome, Ambiguous)


def test_connection_refused_is_transient(smtp_server: SmtpServer) -> None:
    outcome = publish(connector(smtp_server, port=closed_port()))

    assert isinstance(outcome, Transient)
    assert "refused" in outcome.message.lower()


def test_a_partial_refusal_still_delivers_and_is_logged(
    smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.behaviour.refuse = {"volunteers@example.org": "550 5.1.1 no such user"}

    outcome = publish(connector(smtp_server))

    assert outcome == PublishResult(external_id="<dlv-0001@cadence>")
    assert smtp_server.received[0].rcpt_tos == ["staff@example.org"]
    [record] = [r for r in caplog.records if r.name == "connectors.email"]
    assert record.refused == {"volunteers@example.org": 550}  # type: ignore[attr-defined]


def test_check_logs_in_and_sends_nothing(starttls_server: SmtpServer, trusted_ca: None) -> None:
    result = check(connector(starttls_server, security="starttls"))

    assert result.ok, result.detail
    assert starttls_server.logins == [USERNAME]
    assert starttls_server.received == []


def test_check_reports_a_refused_login(smtp_server: SmtpServer) -> None:
    smtp_server.behaviour.reject_logins = True

    result = check(connector(smtp_server))

    assert not result.ok
    assert "refused the credentials" in result.detail
    assert PASSWORD not in result.detail
