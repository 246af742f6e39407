"""The outbound policy for requests sessions (tweepy sends with requests).

`PolicyAdapter` gives urllib3 connection classes that resolve the host once through
the policy and open the socket to an address that passed; TLS still verifies the
URL's host name (urllib3 wraps the socket with the connection's `host`, not the
address it was opened to). Mount it for `http://` and `https://` so that a redirect
to another host goes through the policy too.
"""

from __future__ import annotations

import socket
from typing import Any, ClassVar

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError

from connectors.outbound import OutboundPolicy


class _PolicyConnection(HTTPConnection):
    policy: ClassVar[OutboundPolicy]

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        try:
            allowed = self.policy.resolve_allowed(name, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        error: NewConnectionError | None = None
        for resolved in allowed:
            # urllib3 connects to `_dns_host`: point it at the checked address, so
            # nothing resolves the name a second time.
            self._dns_host = resolved.address
            try:
                return super()._new_conn()
            except NewConnectionError as exc:
                error = exc
            finally:
                self._dns_host = name
        if error is None:
            raise NewConnectionError(self, f"no address to connect to for {name}")
        raise error


class _PolicyHTTPSConnection(_PolicyConnection, HTTPSConnection):
    pass


def pool_classes(policy: OutboundPolicy) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pool classes whose connections follow `policy`."""
    plain = type("PolicyHTTPConnection", (_PolicyConnection,), {"policy": policy})
    secure = type("PolicyHTTPSConnection", (_PolicyHTTPSConnection,), {"policy": policy})
    return {
        "http": type("PolicyHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
        "https": type(
            "PolicyHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": secure}
        ),
    }


class PolicyAdapter(HTTPAdapter):
    """requests' adapter, connecting only where the policy allows."""

    def __init__(self, policy: OutboundPolicy, **kwargs: Any) -> None:
        self.policy = policy  # before HTTPAdapter.__init__, which builds the pool manager
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = pool_classes(self.policy)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # A proxy would make the connection for us, out of the policy's sight.
        raise NotImplementedError("proxies are not used for outbound connections")
