"""E-mail over SMTP: schemas, validation and the connector.

The connector uses the standard library's smtplib in a worker thread
(`asyncio.to_thread`) rather than aiosmtplib: e-mail deliveries are few (one message
per delivery, to a list), a thread per send is cheap at that rate, and smtplib's
error classes are exactly the distinctions the mapping below needs, with no extra
dependency to keep up to date.

The connection follows the outbound policy (connectors/outbound.py): the host is
resolved once, every address checked, and the socket opened to an address that
passed, while TLS (STARTTLS or implicit) verifies the certificate for the host name.
A server whose certificate a private CA signed is trusted through the process's
trust store (`SSL_CERT_FILE`); a per-channel CA file path is not accepted, since a
setting that opens any path lets an admin probe the server's file system.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import smtplib
import socket
import ssl
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from connectors.base import (
    DESTINATION,
    Ambiguous,
    AuthExpired,
    CheckResult,
    Connector,
    Limits,
    Permanent,
    PlatformConfig,
    PlatformCredentials,
    Problem,
    PublishError,
    PublishRequest,
    PublishResult,
    Transient,
)
from connectors.check_answers import check_failed
from connectors.http import NotConnected, excerpt, not_allowed, redact
from connectors.outbound import AddressNotAllowed, OutboundPolicy
from connectors.rules import within_limits

EmailAddress = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]

SUBJECT_MAX = 78

logger = logging.getLogger(__name__)


class EmailConfig(PlatformConfig):
    host: str = Field(min_length=1, max_length=253, json_schema_extra=DESTINATION)
    port: int = Field(default=587, ge=1, le=65535, json_schema_extra=DESTINATION)
    # Where the password goes in clear (none) or not is as much a destination as the host.
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", json_schema_extra=DESTINATION
    )
    from_address: EmailAddress
    to_addresses: list[EmailAddress] = Field(min_length=1)
    # Seconds to wait for the server at each step (connect, each command, DATA).
    timeout: float = Field(default=30.0, gt=0, le=600)


class EmailCredentials(PlatformCredentials):
    username: str | None = None
    password: str | None = None


def message_id(delivery_id: str) -> str:
    """Derived from the delivery, so a resend of the same delivery is recognisable."""
    return f"<{delivery_id}@cadence>"


def subject(request: PublishRequest) -> str:
    """The title, else the first non-blank line of the text, on one line, <= 78 chars."""
    source = request.title or next((ln for ln in request.text.splitlines() if ln.strip()), "")
    line = " ".join(source.split())
    return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1] + "…"


class _Tracking:
    """Remembers whether DATA began: after that, a lost connection is Ambiguous."""

    data_started = False
    policy: OutboundPolicy
    _host: str  # smtplib's: the name TLS verifies


class _SMTP(_Tracking, smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self.policy.connect(host, port, timeout, self.source_address)

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)


class _SMTPSSL(_Tracking, smtplib.SMTP_SSL):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = self.policy.connect(host, port, timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._host)

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)


class EmailConnector(Connector):
    """One message per delivery over SMTP (`starttls`, implicit TLS `ssl`, or `none`).

    Error mapping: authentication refused -> AuthExpired; sender or recipients refused
    and other 5xx answers -> Permanent with the server's words; 4xx answers, a refused
    connection or anything that fails before DATA -> Transient; a disconnect or timeout
    once DATA began -> Ambiguous (the server may have queued the message). An untrusted
    certificate is Permanent: fix the server or the trust store. An address the
    outbound policy refuses is Permanent. The `http` client is unused.
    """

    slug = "email"
    label = "E-mail"
    short_label = "E-mail"
    audience = "internal"
    # Files are not attached; the subject is cut to SUBJECT_MAX rather than refused.
    limits = Limits()
    config: EmailConfig
    credentials: EmailCredentials
    config_model = EmailConfig
    credentials_model = EmailCredentials

    @classmethod
    def validate(cls, request: PublishRequest) -> list[Problem]:
        return within_limits(cls, request)

    # -- building ------------------------------------------------------------------

    def build_message(self, request: PublishRequest) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject(request)
        msg["From"] = self.config.from_address
        msg["To"] = ", ".join(self.config.to_addresses)
        msg["Date"] = format_datetime(self.now().astimezone(UTC))
        msg["Message-ID"] = message_id(request.delivery_id)
        msg["X-Cadence-Delivery"] = request.delivery_id
        parts = []
        if request.title and request.title.strip() != msg["Subject"]:
            parts.append(request.title.strip())
        parts.append(request.text)
        if request.link:
            parts.append(request.link)
        msg.set_content("\n\n".join(parts) + "\n")
        return msg

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context()

    def secrets(self) -> list[str]:
        password = self.credentials.password
        if not password:
            return []
        user = self.credentials.username or ""
        plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return [password, base64.b64encode(password.encode()).decode(), plain]

    # -- sending -------------------------------------------------------------------

    def _open(self) -> _SMTP | _SMTPSSL:
        cfg = self.config
        client: _SMTP | _SMTPSSL
        if cfg.security == "ssl":
            client = _SMTPSSL(timeout=cfg.timeout, context=self.ssl_context())
        else:
            client = _SMTP(timeout=cfg.timeout)
        client.policy = self.outbound
        # smtplib keeps the name for TLS (SNI, certificate) only when given to the
        # constructor, which would connect before the policy is in place.
        client._host = cfg.host
        try:
            # What smtplib's constructor does with a host, through the policy's socket.
            code, greeting = client.connect(cfg.host, cfg.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, greeting)
            client.ehlo()
            if cfg.security == "starttls":
                client.starttls(context=self.ssl_context())
                client.ehlo()
            if self.credentials.username and self.credentials.password:
                client.login(self.credentials.username, self.credentials.password)
        except BaseException:
            client.close()
            raise
        return client

    def _send_sync(self, msg: EmailMessage) -> None:
        client: _SMTP | _SMTPSSL | None = None
        try:
            client = self._open()
            refused = client.send_message(msg)
        except BaseException as exc:
            sent = client is not None and client.data_started
            if client is not None:
                client.close()
            raise self._map(exc, data_started=sent) from None
        # Accepted: a failure to say goodbye changes nothing.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
        if refused:
            # Some recipients took it: the delivery is done, and resending would
            # duplicate it for them. The refusals are the list owner's business.
            logger.warning(
                "some recipients refused the message",
                extra={"refused": {addr: code for addr, (code, _) in refused.items()}},
            )

    def _check_sync(self) -> str:
        client = self._open()
        try:
            client.noop()
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
        return "the SMTP server accepted the connection" + (
            " and the login" if self.credentials.username and self.credentials.password else ""
        )

    def _map(self, exc: BaseException, *, data_started: bool) -> PublishError | BaseException:
        if not isinstance(exc, Exception):
            return exc  # KeyboardInterrupt, SystemExit: not ours to translate
        if isinstance(exc, AddressNotAllowed):
            return not_allowed(exc)
        hidden = self.secrets()

        def said(code: int, message: bytes | str) -> str:
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
            return f"SMTP {code}: {excerpt(redact(text, hidden))}"

        if isinstance(exc, smtplib.SMTPAuthenticationError):
            if 400 <= exc.smtp_code < 500:
                return Transient(said(exc.smtp_code, exc.smtp_error))
            return AuthExpired(
                f"the SMTP server refused the login ({said(exc.smtp_code, exc.smtp_error)})"
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            answers = list(exc.recipients.values())
            text = "; ".join(
                f"{addr}: {said(code, resp)}" for addr, (code, resp) in exc.recipients.items()
            )
            if answers and all(400 <= code < 500 for code, _ in answers):
                return Transient(f"recipients refused for now ({excerpt(text)})")
            return Permanent(f"recipients refused ({excerpt(text)})", code="recipients_refused")
        if isinstance(exc, smtplib.SMTPConnectError):
            # The greeting was not 220 (busy, or no service now): nothing was sent.
            return Transient(
                f"the SMTP server refused the connection ({said(exc.smtp_code, exc.smtp_error)})"
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            # SMTPSenderRefused, SMTPDataError, SMTPHeloError...
            message = said(exc.smtp_code, exc.smtp_error)
            if isinstance(exc, smtplib.SMTPSenderRefused):
                message = f"sender refused ({message})"
            if 400 <= exc.smtp_code < 500:
                return Transient(message)
            if exc.smtp_code >= 500:
                return Permanent(message, code=f"smtp_{exc.smtp_code}")
            return Ambiguous(message) if data_started else Transient(message)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return Permanent(
                f"the SMTP server does not support it: {excerpt(redact(str(exc), hidden))}"
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return Permanent(
                f"the SMTP server's certificate is not trusted ({exc.verify_message})",
                code="certificate",
            )
        detail = f"{type(exc).__name__}: {excerpt(redact(str(exc), hidden))}".rstrip(": ")
        network = isinstance(exc, smtplib.SMTPServerDisconnected) or (
            isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)
        )  # smtplib's own errors are OSErrors too; TimeoutError and refusals are here
        if network or not isinstance(exc, smtplib.SMTPException):
            if data_started:
                return Ambiguous(f"the SMTP server stopped answering during DATA ({detail})")
            if isinstance(exc, ConnectionRefusedError | socket.gaierror | socket.timeout):
                return NotConnected(f"SMTP failed before sending ({detail})", self.config.host)
            return Transient(f"SMTP failed before sending ({detail})")
        return Permanent(f"SMTP error ({detail})")

    # -- the contract --------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishResult:
        msg = self.build_message(request)
        await asyncio.to_thread(self._send_sync, msg)
        return PublishResult(external_id=msg["Message-ID"])

    async def check(self) -> CheckResult:
        """Connect, negotiate TLS as configured, log in, NOOP, QUIT: sends no message."""
        try:
            detail = await asyncio.to_thread(self._check_sync)
        except BaseException as exc:
            mapped = self._map(exc, data_started=False)
            if isinstance(mapped, Permanent) and mapped.code == "certificate":
                return CheckResult(
                    ok=False, detail=f"the certificate of {self.config.host} is not trusted"
                )
            if isinstance(mapped, PublishError):
                # Never the server's words: a banner or reply could be any service's.
                return check_failed(mapped, label="The SMTP server", host=self.config.host)
            raise
        return CheckResult(ok=True, detail=detail)
