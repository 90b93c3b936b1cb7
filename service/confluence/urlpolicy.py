"""Which Confluence URLs spacegate may call, and which addresses it may connect to (SSRF).

`UrlPolicy.problems()`, the static half (docs/contract.md#the-422-vocabulary), needs the URL and
the configuration, so the handler can report it with every other field problem. The dynamic
half, `address_refusal()`, judges each address a name resolves to; `GuardedHTTPAdapter` calls
it at connect time, on the very address it then connects to.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from service import problems
from service.problems import Loc, Problem

if TYPE_CHECKING:
    from service.settings import Settings

__all__ = ["IPAddress", "UrlPolicy", "is_host_pattern"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# AWS, GCP, Azure and Oracle answer on 169.254.169.254, AWS also on fd00:ec2::254, Alibaba on
# 100.100.100.200. They hand out instance credentials: no setting ever unlocks them.
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
# A NAT64 gateway turns 64:ff9b::a.b.c.d into a connection to a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
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
    allowed_hosts: tuple[str, ...]
    allow_http: bool
    allow_private_addresses: bool
    enforce_allow_list: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, *, enforce_allow_list: bool = True) -> UrlPolicy:
        """The policy of a deployment; mock mode passes `enforce_allow_list=False`."""
        return cls(
            allowed_hosts=tuple(settings.allowed_hosts),
            allow_http=settings.allow_http,
            allow_private_addresses=settings.allow_private_addresses,
            enforce_allow_list=enforce_allow_list,
        )

    def problems(self, loc: Loc, url: str) -> list[Problem]:
        """The first rule `instance_url` breaks, as a 422 item; [] when it may be called."""
        scheme = _scheme(url)
        if scheme not in _DEFAULT_PORTS:
            return [problems.url_scheme_invalid(loc)]
        if scheme == "http" and not self.allow_http:
            return [problems.url_scheme_not_permitted(loc)]
        target = _host_and_port(url)
        if target is None:
            return [problems.url_host_invalid(loc)]
        host, port = target
        if not isinstance(host, str):
            refusal = self.address_refusal(host)
            if refusal is not None:
                return [problems.url_host_refused(loc, refusal)]
        if self.enforce_allow_list and not self._allowed(_host_text(host), port, scheme):
            return [problems.url_host_refused(loc, self._allow_list_sentence(host, port, scheme))]
        return []

    def web_url_problems(self, loc: Loc, url: str) -> list[Problem]:
        """`web_url_instance` only prefixes links, so it needs a shape, not a host policy."""
        if _scheme(url) not in _DEFAULT_PORTS:
            return [problems.url_scheme_invalid(loc)]
        if _host_and_port(url) is None:
            return [problems.url_host_invalid(loc)]
        return []

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

    def _allowed(self, host: str, port: int, scheme: str) -> bool:
        default_port = _DEFAULT_PORTS[scheme]
        return any(p.matches(host, port, default_port) for p in self._patterns)

    @cached_property
    def _patterns(self) -> tuple[_Pattern, ...]:
        # Settings has refused unreadable patterns (is_host_pattern); a policy built by hand
        # with one lets it allow nothing.
        return tuple(p for p in map(_parse_pattern, self.allowed_hosts) if p is not None)

    def _allow_list_sentence(self, host: str | IPAddress, port: int, scheme: str) -> str:
        shown = f"[{host}]" if isinstance(host, ipaddress.IPv6Address) else str(host)
        if port != _DEFAULT_PORTS[scheme]:
            shown = f"{shown}:{port}"
        allowed = ", ".join(self.allowed_hosts)
        return (
            f"{shown} is not an allowed Confluence host; spacegate connects only to hosts "
            f"matching {allowed} (a pattern without a port allows only the default port)"
        )


_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _scheme(url: object) -> str | None:
    match = _SCHEME.match(url) if isinstance(url, str) else None
    return match.group(1).lower() if match else None


def _host_and_port(url: str) -> tuple[str | IPAddress, int] | None:
    """The host (a normalised name, or an address) and the effective port; None if invalid."""
    # urlsplit silently drops tabs and newlines (WHATWG style) where requests would send
    # them: refuse such URLs, so that the URL checked is the URL called.
    if _CONTROL.search(url.strip()):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # "https://[", a port that is not a number in 0-65535
        return None
    if "@" in parts.netloc or not parts.hostname or port == 0:
        return None
    host = _parse_host(parts.hostname)
    if host is None:
        return None
    return host, port if port is not None else _DEFAULT_PORTS[parts.scheme.lower()]


def _parse_host(raw: str) -> str | IPAddress | None:
    if ":" in raw:  # only a bracketed IPv6 literal has colons in its host
        try:
            return ipaddress.IPv6Address(raw)
        except ValueError:
            return None
    name = raw.lower().rstrip(".")
    if not name:
        return None
    labels = name.split(".")
    # No top-level domain is all digits: such a host is an IPv4 address in one of the forms
    # inet_aton (and so the resolver) accepts, like 127.1 or 0x7f000001.
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if len(ascii_name) > 253 or not all(_LABEL.fullmatch(label) for label in ascii_name.split(".")):
        return None
    return ascii_name


def _host_text(host: str | IPAddress) -> str:
    return host if isinstance(host, str) else str(host)


def is_host_pattern(pattern: str) -> bool:
    """Whether the allow-list can use `pattern` (Settings refuses the others at start-up)."""
    return _parse_pattern(pattern) is not None


def _parse_pattern(pattern: str) -> _Pattern | None:
    text = pattern.strip()
    port: int | None = None
    if text.startswith("["):
        host_text, _, rest = text[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
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
    host = _parse_host(host_text.removeprefix("*."))
    if host is None:
        return None
    return _Pattern(host=_host_text(host), wildcard=wildcard, port=port)


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
