"""A real SMTP server for the e-mail connector's tests: aiosmtpd in a thread.

`SmtpServer` records each accepted message and can be told how to behave: refuse
recipients, answer DATA with a 4xx or 5xx, hang or hang up during DATA. `make_tls`
writes a throwaway CA and a server certificate for 127.0.0.1 so STARTTLS and
implicit-TLS tests run with full verification.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USERNAME = "cadence@example.org"
PASSWORD = "smtp-Pa55word-secret!"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Behaviour:
    mail: str | None = None  # an SMTP answer to MAIL FROM, e.g. "553 5.7.1 rejected"
    mail_hangup: bool = False  # close the connection instead of answering MAIL FROM
    rcpt: str | None = None  # an SMTP answer to every RCPT, e.g. "550 5.1.1 unknown"
    refuse: dict[str, str] = field(default_factory=dict)  # address -> answer to its RCPT
    data: str | None = None  # an SMTP answer to DATA instead of accepting
    data_hang: float = 0.0  # seconds to wait before answering DATA
    data_hangup: bool = False  # close the connection instead of answering DATA
    reject_logins: bool = False  # refuse every login, even the right one


@dataclass
class _Handler:
    behaviour: Behaviour
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.behaviour.mail_hangup:
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "250 OK"  # never reaches the client
        if self.behaviour.mail:
            return self.behaviour.mail
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.behaviour.rcpt:
            return self.behaviour.rcpt
        if address in self.behaviour.refuse:
            return self.behaviour.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.behaviour.data_hang:
            await asyncio.sleep(self.behaviour.data_hang)
        if self.behaviour.data_hangup:
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "250 OK"  # never reaches the client
        if self.behaviour.data:
            return self.behaviour.data
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 2.0.0 Ok: queued as 4ZCADENCE"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = auth_data.login.decode()
        self.logins.append(login)
        ok = (
            not self.behaviour.reject_logins
            and login == USERNAME
            and auth_data.password.decode() == PASSWORD
        )
        return AuthResult(success=ok, handled=False)


class _Controller(Controller):
    """Binds port 0 and reads back the port the system chose (aiosmtpd wants a fixed one)."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    def __init__(
        self,
        *,
        tls: TlsFiles | None = None,
        mode: str = "none",  # "none", "starttls" or "ssl"
    ) -> None:
        self.behaviour = Behaviour()
        self.handler = _Handler(self.behaviour)
        kwargs: dict[str, Any] = {
            "authenticator": self.handler.authenticate,
            "auth_require_tls": mode == "starttls",
        }
        if mode == "starttls":
            assert tls is not None
            kwargs.update(tls_context=tls.server_context(), require_starttls=True)
        elif mode == "ssl":
            assert tls is not None
            kwargs.update(ssl_context=tls.server_context())
        self.controller = _Controller(self.handler, hostname="127.0.0.1", port=0, **kwargs)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def logins(self) -> list[str]:
        return self.handler.logins

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def make_tls(directory: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cadence test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files
