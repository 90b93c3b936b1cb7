"""A `requests` adapter that sends only where the URL policy and the listing's origin allow.

It is the last line of defence, so it judges the prepared request actually sent, whatever
its caller checked before:

- at send time, the request's URL read by `Origin.of` (as urllib3 will connect) must be the
  origin the listing is pinned to, and that origin's host must pass the allow-list;
- at connect time, every address the name resolves to must pass `UrlPolicy.address_refusal`.

The adapter and its connection pools are shared by all concurrent API requests; the origin
pin is per listing, so a listing sends through `adapter.pinned(origin)`, a thin view holding
nothing but the origin. The shared adapter refuses to send without one.

Checking a name before calling it leaves a gap: the resolver may answer differently a moment
later (DNS rebinding). So the address check happens where the socket is opened: the
connection classes resolve the name once, judge every address, and connect to those same
addresses; nothing resolves the name a second time. TLS is untouched: the socket is handed to
urllib3's HTTPS code, which verifies the certificate and sends SNI for the URL's host name as
usual.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import sys
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from requests import Response
from requests.adapters import DEFAULT_POOLBLOCK, DEFAULT_POOLSIZE, BaseAdapter, HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import Timeout

from service.confluence.errors import AddressRefused, BadGateway
from service.confluence.origin import IPAddress, Origin, Refusal
from service.confluence.urlpolicy import UrlPolicy

__all__ = [
    "EnvironmentHTTPAdapter",
    "GuardedHTTPAdapter",
    "GuardedHTTPConnection",
    "GuardedHTTPSConnection",
]


class _Guard(HTTPConnection):
    """The connect step shared by the HTTP and HTTPS connection classes below."""

    # Bound per adapter by `_pool_classes`; urllib3 builds connections from the class alone.
    policy: ClassVar[UrlPolicy]

    def _new_conn(self) -> socket.socket:
        # Same contract and error mapping as urllib3's HTTPConnection._new_conn, with the
        # address check between resolving and connecting.
        try:
            sock = _connect_checked(
                self.policy,
                self._dns_host,
                self.port,
                Timeout.resolve_default_timeout(self.timeout),
                self.source_address,
                self.socket_options,
            )
        except (socket.gaierror, UnicodeError) as e:  # UnicodeError: a label IDNA refuses
            # urllib3 types the reason as gaierror; IDNA's refusal is reported the same way
            raise NameResolutionError(self.host, self, e) from e  # type: ignore[arg-type]
        except TimeoutError as e:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from e
        except OSError as e:
            raise NewConnectionError(self, f"Failed to establish a new connection: {e}") from e
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class GuardedHTTPConnection(_Guard):
    """urllib3's HTTPConnection with the address check; GuardedHTTPAdapter binds `policy`."""


class GuardedHTTPSConnection(_Guard, HTTPSConnection):
    """urllib3's HTTPSConnection with the address check; GuardedHTTPAdapter binds `policy`."""


def _connect_checked(
    policy: UrlPolicy,
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None,
    socket_options: Any,
) -> socket.socket:
    name = host.strip("[]")
    infos = socket.getaddrinfo(name, port, allowed_gai_family(), socket.SOCK_STREAM)
    # Every address first, then connect: a name answering with one public and one private
    # address must not reach the private one when the public one happens to be down.
    _refuse_any(policy, name, [str(info[4][0]) for info in infos])
    error: OSError | None = None
    for family, socktype, proto, _canonname, sockaddr in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error if error is not None else OSError(f"{name} resolves to no address")


def _refuse_any(policy: UrlPolicy, name: str, addresses: list[str]) -> None:
    for address in addresses:
        ip: IPAddress = ipaddress.ip_address(address)
        shown = None if name == address else name
        refusal = policy.address_refusal(ip, host=shown)
        if refusal is not None:
            raise AddressRefused(refusal)


def _pool_classes(policy: UrlPolicy) -> dict[str, type[HTTPConnectionPool]]:
    http_conn = type("GuardedHTTPConnection", (GuardedHTTPConnection,), {"policy": policy})
    https_conn = type("GuardedHTTPSConnection", (GuardedHTTPSConnection,), {"policy": policy})
    http_pool = type(
        "GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}
    )
    https_pool = type(
        "GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
    )
    return {"http": http_pool, "https": https_pool}


# What requests reads from the environment for an http(s) request (proxies, CA bundle), in
# the spellings operators use.
_ENVIRONMENT = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",  # a CGI environment makes requests ignore HTTP_PROXY
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


@functools.lru_cache(maxsize=256)
def _environment_settings(origin: str, _fingerprint: tuple[str | None, ...]) -> dict[str, Any]:
    merged = requests.Session().merge_environment_settings(origin, {}, None, None, None)
    return {"proxies": merged["proxies"], "verify": merged["verify"], "cert": merged["cert"]}


_SENT_TO = "a request was about to go to"


class EnvironmentHTTPAdapter(HTTPAdapter):
    """`HTTPAdapter` that applies requests' environment variables itself.

    `HTTPS_PROXY`, `NO_PROXY`, `REQUESTS_CA_BUNDLE`… are what Data Center operators set; a
    `requests.Session` would read them on every request, which costs more than a request
    answered from memory. Here they are read per origin and cached on their values.

    `pinned(origin)` is the view one listing sends through: it refuses, before any
    connection, a request whose URL does not connect to `origin`.
    """

    blocking = True  # it waits on sockets: callers on an event loop use a worker thread
    clock = staticmethod(time.monotonic)  # real time: waiting on sockets is what takes it

    def pinned(self, origin: Origin) -> BaseAdapter:
        """This adapter for one listing: it sends only to `origin`."""
        return _Pinned(self, origin)

    def send_pinned(
        self, origin: Origin, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> Response:
        """`send()`, once `request` is known to connect to `origin`; `pinned()` calls it."""
        origin.check(request.url or "", _SENT_TO)
        # This class's send, past a subclass's refusal of sends without a pin.
        return EnvironmentHTTPAdapter.send(self, request, *args, **kwargs)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        parts = urlsplit(request.url or "")
        fingerprint = tuple(os.environ.get(name) for name in _ENVIRONMENT)
        settings = _environment_settings(f"{parts.scheme}://{parts.netloc}", fingerprint)
        return self.send_resolved(
            request,
            stream=stream,
            timeout=timeout,
            verify=settings["verify"] if verify is True else verify,
            cert=cert if cert is not None else settings["cert"],
            proxies=proxies if proxies is not None else dict(settings["proxies"]),
        )

    def send_resolved(self, request: requests.PreparedRequest, **kwargs: Any) -> Response:
        """Send with the environment applied; a subclass may judge the resolved settings."""
        return super().send(request, **kwargs)


class _Pinned(BaseAdapter):
    """One listing's view of a shared adapter: the origin it may send to, nothing else."""

    def __init__(self, adapter: EnvironmentHTTPAdapter, origin: Origin) -> None:
        super().__init__()
        self._adapter = adapter
        self.origin = origin

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        return self._adapter.send_pinned(self.origin, request, *args, **kwargs)

    def close(self) -> None:
        pass  # the pools belong to the shared adapter, which outlives the listing


class GuardedHTTPAdapter(EnvironmentHTTPAdapter):
    """`HTTPAdapter` that sends only to a listing's origin, on the allow-list, to addresses
    `policy` allows.

    A refused host or address raises `AddressRefused`, another origin or an unreadable URL
    `BadGateway` (both `ConfluenceError`s); they pass through urllib3 and requests unwrapped,
    since neither catches exceptions they do not know. `send()` without a pinned origin is
    refused outright: only `pinned(origin).send()` sends.

    Behind a proxy (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` with ``trust_env``), the proxy
    resolves and connects, so the adapter cannot see the address actually used: it resolves the
    target name itself and checks every address before sending, and refuses (a connection error)
    when it cannot resolve the name at all. The proxy's own address is the operator's choice
    and is not checked.

    One instance serves every concurrent request: it holds no per-request state, and urllib3's
    pool manager is thread-safe.
    """

    # requests rebuilds the pool manager from these when unpickling an adapter
    __attrs__ = [*HTTPAdapter.__attrs__, "policy"]

    def __init__(
        self,
        policy: UrlPolicy,
        *,
        pool_connections: int = DEFAULT_POOLSIZE,
        pool_maxsize: int = DEFAULT_POOLSIZE,
        pool_block: bool = DEFAULT_POOLBLOCK,
    ) -> None:
        # Set before super().__init__, which builds the pool manager through init_poolmanager.
        self.policy = policy
        super().__init__(
            pool_connections=pool_connections, pool_maxsize=pool_maxsize, pool_block=pool_block
        )

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        raise BadGateway(
            "spacegate sends to Confluence only through a listing's pinned origin; "
            "this request had none, so it was not sent"
        )

    def send_pinned(
        self, origin: Origin, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> Response:
        # The origin's host first: when it is refused, the listing should not exist at all.
        refusal = self.policy.host_refusal(origin)
        if refusal is not None:
            raise AddressRefused(refusal.sentence)
        return super().send_pinned(origin, request, *args, **kwargs)

    def send_resolved(self, request: requests.PreparedRequest, **kwargs: Any) -> Response:
        if request.url and select_proxy(request.url, kwargs.get("proxies") or {}):
            self._check_before_proxy(request)
        return super().send_resolved(request, **kwargs)

    def _check_before_proxy(self, request: requests.PreparedRequest) -> None:
        origin = Origin.of(request.url or "")
        if isinstance(origin, Refusal):  # send_pinned has read it already: not reached
            raise BadGateway(origin.sentence)
        name = str(origin.host)
        try:
            infos = socket.getaddrinfo(name, origin.port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            raise requests.ConnectionError(
                f"cannot resolve {name} to check its addresses before using the proxy: {exc}",
                request=request,
            ) from exc
        _refuse_any(self.policy, name, [str(info[4][0]) for info in infos])
