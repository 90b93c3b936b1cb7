"""Which Confluence URLs spacegate may call, and which addresses it may connect to (SSRF).

`UrlPolicy.refusal()` is the static half (docs/contract.md#the-422-vocabulary): it needs only
the URL and the configuration, so the web layer can report it with every other field problem.
It reads the URL with `Origin.of`, as the connection will, and `host_refusal()` judges that
origin; `GuardedHTTPAdapter` applies the same two again at send time, on the prepared request.
The dynamic half, `address_refusal()`, judges each address a name resolves to; the adapter
calls it at connect time, on the very address it then connects to.

The policy says what it refuses and why (a `Refusal`); the web layer words its 422 items.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property

from service.confluence.origin import (
    DEFAULT_PORTS,
    IPAddress,
    Origin,
    Refusal,
    parse_host,
    scheme_of,
)

__all__ = ["UrlPolicy", "is_host_pattern", "web_url_refusal"]

# AWS, GCP, Azure and Oracle answer on 169.254.169.254, AWS also on fd00:ec2::254, Alibaba on
# 100.100.100.200. They hand out instance credentials: no setting ever unlocks them.
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
# A NAT64 gateway turns 64:ff9b::a.b.c.d into a connection to a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_PUBLIC_ONLY = "spacegate only connects to public Confluence sites"
_NEVER = "spacegate never connects to it"


@dataclass(frozen=True)
class _Pattern:
    host: str  # normalised; for a wildcard the part after "*." ("" for a bare "*")
    wildcard: bool
    port: int | None

    def matches(self, host: str, port: int, default_port: int) -> bool:
        if port != (default_port if self.port is None else self.port):
            return False
        if self.wildcard:
            if not self.host:  # "*": any host (literal addresses are judged before this)
                return True
            # "*." needs at least one more label: the bare domain is not a subdomain of itself
            return host.endswith("." + self.host)
        return host == self.host


@dataclass(frozen=True)
class UrlPolicy:
    """A deployment's rules; mock mode, where nothing leaves the process, sets
    `enforce_allow_list=False` (literal addresses are still judged)."""

    allowed_hosts: tuple[str, ...]
    allow_http: bool
    allow_private_addresses: bool
    enforce_allow_list: bool = True

    def refusal(self, url: str) -> Refusal | None:
        """The first rule `instance_url` breaks; None when it may be called.

        Surrounding whitespace is ignored: the client strips it too.
        """
        url = url.strip()
        scheme = scheme_of(url)
        if scheme == "http" and not self.allow_http:
            return Refusal(Refusal.Kind.SCHEME_NOT_PERMITTED, "plain http is not allowed")
        origin = Origin.of(url)
        if isinstance(origin, Refusal):
            return origin
        return self.host_refusal(origin)

    def host_refusal(self, origin: Origin) -> Refusal | None:
        """Whether `origin`'s host may be called: a literal address, then the allow-list."""
        if not isinstance(origin.host, str):
            sentence = self.address_refusal(origin.host)
            if sentence is not None:
                return Refusal(Refusal.Kind.HOST_REFUSED, sentence)
        if self.enforce_allow_list and not self._allowed(origin):
            return Refusal(Refusal.Kind.HOST_REFUSED, self._allow_list_sentence(origin))
        return None

    def address_refusal(self, ip: IPAddress, *, host: str | None = None) -> str | None:
        """Why connecting to `ip` is refused, as a sentence for the user; None when allowed.

        `host` is the name that resolved to `ip`, mentioned in the sentence when given.
        """
        effective = _unwrap(ip)
        subject = f"{ip} is" if host is None else f"{host} resolves to {ip},"
        if effective in _METADATA:
            return f"{subject} a cloud metadata address; {_NEVER}"
        if self.allow_private_addresses:
            return None
        kind = _non_public_kind(effective)
        return None if kind is None else f"{subject} {kind}; {_PUBLIC_ONLY}"

    def _allowed(self, origin: Origin) -> bool:
        default_port = DEFAULT_PORTS[origin.scheme]
        host = str(origin.host)
        return any(p.matches(host, origin.port, default_port) for p in self._patterns)

    @cached_property
    def _patterns(self) -> tuple[_Pattern, ...]:
        # Settings has refused unreadable patterns (is_host_pattern); a policy built by hand
        # with one lets it allow nothing.
        return tuple(p for p in map(_parse_pattern, self.allowed_hosts) if p is not None)

    def _allow_list_sentence(self, origin: Origin) -> str:
        shown = str(origin).partition("://")[2]
        allowed = ", ".join(self.allowed_hosts)
        return (
            f"{shown} is not an allowed Confluence host; spacegate connects only to hosts "
            f"matching {allowed} (a pattern without a port allows only the default port)"
        )


def web_url_refusal(url: str) -> Refusal | None:
    """`web_url_instance` only prefixes links: it needs a shape, not a host policy.

    A query or fragment would end up in the middle of every link (`…/wiki?x=1/spaces/KB`),
    so it is refused rather than glued in.
    """
    url = url.strip()
    origin = Origin.of(url)
    if isinstance(origin, Refusal):
        return origin
    cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=-1)
    if cut >= 0:
        return Refusal(
            Refusal.Kind.EXTRA, "a query or fragment cannot prefix links", extra=url[cut:]
        )
    return None


def is_host_pattern(pattern: str) -> bool:
    """Whether the allow-list can use `pattern` (Settings refuses the others at start-up)."""
    return _parse_pattern(pattern) is not None


def _parse_pattern(pattern: str) -> _Pattern | None:
    text = pattern.strip()
    port: int | None = None
    if text.startswith("["):
        host_text, _, rest = text[1:].partition("]")
        if rest:
            if not (rest.startswith(":") and rest[1:].isdigit()):
                return None
            port = int(rest[1:])
    elif text.count(":") == 1:
        host_text, _, port_text = text.partition(":")
        if not port_text.isdigit():
            return None
        port = int(port_text)
    else:
        host_text = text
    if port is not None and not 0 < port < 65536:
        return None
    if host_text == "*":
        return _Pattern(host="", wildcard=True, port=port)
    wildcard = host_text.startswith("*.")
    host = parse_host(host_text.removeprefix("*."))
    if host is None:
        return None
    return _Pattern(host=str(host), wildcard=wildcard, port=port)


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 form really reaches (mapped, 6to4, NAT64), else `ip`."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _non_public_kind(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        # shared (100.64/10), documentation and benchmarking ranges: nobody's public site
        return "a reserved address"
    return None
