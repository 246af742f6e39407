"""Where Cadence may connect: one policy for every outbound connection.

Every connection the service makes (the HTTP transports, tweepy's requests session,
SMTP, OAuth token calls) resolves its host name here, checks every address, and then
connects to an address that passed, never to the name again: a second lookup could
answer differently (DNS rebinding). Loopback, private (RFC 1918), link-local, CGNAT
(100.64.0.0/10), unique-local, multicast, unspecified and reserved addresses are
refused, also when they hide inside an IPv4-mapped, 6to4, Teredo or NAT64 address.

An operator opens exceptions with an allow list (`CADENCE_OUTBOUND_ALLOW`): CIDR
ranges or single addresses (`10.0.0.5`, `10.20.0.0/16`, `::1`) and host names
(`mattermost.corp.example`), whose every address is then allowed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_SETTING = "CADENCE_OUTBOUND_ALLOW"
CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local use): the IPv4 address is the
# last 32 bits.
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
LOCALHOST_ADDRESSES = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))
# Legacy IPv4 spellings that resolvers still accept: 2130706433, 0x7f000001, 127.1, 0177.0.0.1.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)

GetAddrInfo = Callable[..., list[tuple[Any, ...]]]


class AddressNotAllowed(Exception):
    """A connection would go to an address the policy refuses. Nothing was sent.

    Deliberately not an OSError: the HTTP libraries would turn an OSError into a
    retryable connection failure, while this one fails the same way every time.
    """

    def __init__(self, address: str, host: str | None = None) -> None:
        self.address = address
        self.host = host
        self.message = f"address {address} is not allowed; see {ALLOW_SETTING}"
        super().__init__(self.message)


def refusal_reason(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address (None when it is one)."""
    translated = _translated_ipv4(ip)
    if translated is not None:
        # IPv4-mapped and NAT64 addresses reach exactly that IPv4 address.
        return refusal_reason(translated)
    for embedded in _embedded_ipv4(ip):
        reason = refusal_reason(embedded)
        if reason is not None:
            return reason
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("shared (CGNAT)", isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT),
    )
    return next((name for name, hit in checks if hit), None)


def _translated_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in prefix for prefix in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo client, NAT64)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found += list(ip.teredo)
    if any(ip in prefix for prefix in NAT64):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def literal_address(host: str) -> IPAddress | None:
    """The address `host` spells when it is an IP literal in any form a resolver would
    accept (`[::1]`, `::ffff:127.0.0.1`, `2130706433`, `0x7f000001`, `127.1`); else None."""
    bare = host.strip().strip("[]").rstrip(".")
    bare = bare.split("%", 1)[0]  # an IPv6 zone id
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def _normal_name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class Resolved:
    """An address a connection may use: the family and the IP as a string."""

    family: socket.AddressFamily
    address: str


class OutboundPolicy:
    """Refuses non-public addresses unless the allow list names them.

    `allow`: CIDR ranges, single addresses and host names. `getaddrinfo` is the
    resolver (the system's; tests give their own to show where connections go).
    """

    def __init__(
        self, allow: Iterable[str] = (), *, getaddrinfo: GetAddrInfo = socket.getaddrinfo
    ) -> None:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        for raw in allow:
            entry = raw.strip()
            if not entry:
                continue
            network = parse_allow_entry(entry)
            if isinstance(network, str):
                names.add(network)
            else:
                networks.append(network)
        self.networks: tuple[IPNetwork, ...] = tuple(networks)
        self.names: frozenset[str] = frozenset(names)
        self._getaddrinfo = getaddrinfo

    def __repr__(self) -> str:
        allowed = [*map(str, self.networks), *sorted(self.names)]
        return f"OutboundPolicy(allow={allowed!r})"

    # -- single addresses --------------------------------------------------------------

    def allows_address(self, ip: IPAddress) -> bool:
        if refusal_reason(ip) is None:
            return True
        candidates = [ip, *_embedded_ipv4(ip)]
        return any(c in n for c in candidates for n in self.networks if c.version == n.version)

    def check_address(self, address: str | IPAddress, host: str | None = None) -> IPAddress:
        """`address` as an IP when it may be used; raises AddressNotAllowed otherwise."""
        ip = address if not isinstance(address, str) else ipaddress.ip_address(address)
        if not self.allows_address(ip):
            raise AddressNotAllowed(str(ip), host)
        return ip

    # -- host names --------------------------------------------------------------------

    def allows_name(self, host: str) -> bool:
        return _normal_name(host) in self.names

    def refused_literal(self, host: str) -> str | None:
        """For checking settings when they are saved: the refusal message when `host`
        itself (without asking DNS) is a refused address or `localhost`; else None."""
        if not host or self.allows_name(host):
            return None
        name = _normal_name(host)
        if name == "localhost" or name.endswith(".localhost"):
            if any(self.allows_address(ip) for ip in LOCALHOST_ADDRESSES):
                return None
            return f"host {name} is not allowed; see {ALLOW_SETTING}"
        ip = literal_address(host)
        if ip is None or self.allows_address(ip):
            return None
        return AddressNotAllowed(str(ip)).message

    def resolve_allowed(
        self, host: str, port: int, family: int = socket.AF_UNSPEC
    ) -> list[Resolved]:
        """The addresses of `host` a connection may go to, in the resolver's order.

        One lookup; the caller connects to these addresses, not to the name. Raises
        AddressNotAllowed when the name has addresses but none may be used, and the
        resolver's own error (socket.gaierror) when it has none.
        """
        literal = literal_address(host)
        if literal is not None:
            self.check_address(literal, host)
            return [Resolved(_family(literal), str(literal))]
        trusted = self.allows_name(host)
        infos = self._getaddrinfo(host, port, family, socket.SOCK_STREAM)
        allowed: list[Resolved] = []
        refused: str | None = None
        for info in infos:
            address = str(info[4][0]).split("%", 1)[0]
            ip = ipaddress.ip_address(address)
            if trusted or self.allows_address(ip):
                resolved = Resolved(_family(ip), str(ip))
                if resolved not in allowed:
                    allowed.append(resolved)
            elif refused is None:
                refused = str(ip)
        if not allowed:
            if refused is not None:
                raise AddressNotAllowed(refused, host)
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
        return allowed

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        source_address: Any = None,
    ) -> socket.socket:
        """A TCP connection to the first allowed address of `host` that answers."""
        error: OSError | None = None
        for resolved in self.resolve_allowed(host, port):
            try:
                return socket.create_connection(
                    (resolved.address, port), timeout=timeout, source_address=source_address
                )
            except OSError as exc:
                error = exc
        raise error or OSError(f"no address to connect to for {host}")


def _family(ip: IPAddress) -> socket.AddressFamily:
    return socket.AF_INET if ip.version == 4 else socket.AF_INET6


def parse_allow_entry(entry: str) -> IPNetwork | str:
    """A CIDR range (a bare address is a /32 or /128) or a host name, lower-cased.

    Raises ValueError naming the entry when it is neither.
    """
    try:
        return ipaddress.ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        pass
    name = _normal_name(entry)
    if literal_address(name) is None and _HOST_NAME.match(name):
        return name
    raise ValueError(f"{entry!r} is neither a CIDR range, an IP address nor a host name")


def parse_allow_list(value: str | Sequence[str]) -> list[str]:
    """The entries of a comma-separated allow list, each checked (ValueError otherwise)."""
    entries = value.split(",") if isinstance(value, str) else list(value)
    cleaned = [e.strip() for e in entries if e.strip()]
    for entry in cleaned:
        parse_allow_entry(entry)
    return cleaned
