"""Where a URL sends a connection: its origin as the connection layer reads it, or a refusal.

`Origin.of()` is the one reading of a URL that every check uses: the URL policy (allow-list,
literal addresses), the origin pin on redirects and next links, and the guarded adapter at
send time. Its host and port are urllib3's, the parser that opens the connection (requests
prepares a URL with it, and pools connections by the host it wrote back).

Parsers disagree about odd authorities: `https://evil.example\\@acme.atlassian.net/` is
`evil.example` to urllib3 and `acme.atlassian.net` to `urllib.parse`; `urlsplit` drops tabs
and newlines that urllib3 refuses; urllib3 decodes `%2e` in a host and `%25` in an IPv6 zone;
Python's IDNA codec maps `ß` to `ss` where urllib3's writes `xn--…`. So a URL is read only
when no reader could see another host in it: printable, without spaces or backslashes, and an
authority that is nothing but a host name or IPv6 literal and a port (no user-info, no
percent-encoding, no zone id). Everything else is refused, never guessed at.
"""

from __future__ import annotations

import enum
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from service.confluence.errors import BadGateway
from service.confluence.url_memo import remembered

__all__ = ["DEFAULT_PORTS", "IPAddress", "Origin", "Refusal", "join", "parse_host", "scheme_of"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# A host name (letters, digits, dots, hyphens, underscores; IDNA's non-ASCII letters, which
# urllib3 encodes or refuses) or a bracketed IPv6 literal, then an optional port.
_AUTHORITY = re.compile(r"(?:[A-Za-z0-9._\-\u0080-\U0010ffff]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]*)?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


@dataclass(frozen=True)
class Refusal:
    """Why a URL is refused: a kind the web layer maps to its 422, and a sentence for people."""

    class Kind(enum.Enum):
        SCHEME_INVALID = "no scheme, or not http(s)"
        SCHEME_NOT_PERMITTED = "plain http while it is not allowed"
        HOST_INVALID = "no host, or one that parsers could read differently"
        HOST_REFUSED = "a host or address the policy refuses"
        EXTRA = "a query or fragment where the URL is only a prefix"

    kind: Kind
    sentence: str
    extra: str = ""  # for EXTRA: the characters refused, from the first "?" or "#"


@dataclass(frozen=True)
class Origin:
    """scheme + host + port: where a connection goes, and the only place credentials may go.

    `host` is a lower-case ASCII name without a trailing dot, or an address (any form the
    resolver accepts, `127.1` or `0x7f000001` included, read as the address it is).
    """

    scheme: str
    host: str | IPAddress
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | Refusal:
        """The origin `url` connects to, or why it is refused (SCHEME_INVALID, HOST_INVALID).

        A pure function of `url`, remembered (service/confluence/url_memo.py).
        """
        return _read(url)

    def check(self, url: str, what: str) -> str:
        """`url` itself when it connects to this origin; BadGateway otherwise.

        `what` starts the sentence: "Confluence redirects to", "a request was about to go to".
        """
        target = Origin.of(url)
        if target != self:
            shown = target if isinstance(target, Origin) else f"an unusable URL ({target.sentence})"
            raise BadGateway(
                f"{what} {shown}, not to {self}; spacegate sends the credentials only to "
                "instance_url's origin, so it does not go there"
            )
        return url

    def __str__(self) -> str:
        host = f"[{self.host}]" if isinstance(self.host, ipaddress.IPv6Address) else str(self.host)
        if self.port == DEFAULT_PORTS[self.scheme]:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


@remembered
def _read(url: str) -> Origin | Refusal:
    scheme = scheme_of(url)
    if scheme not in DEFAULT_PORTS:
        return Refusal(Refusal.Kind.SCHEME_INVALID, "the URL is not an http(s) URL")
    if not _readable(url):
        return _unreadable("it holds a backslash, a space or a control character")
    # With no backslash, urlsplit and urllib3 end the authority at the same character.
    try:
        authority = urlsplit(url).netloc
        parsed = parse_url(url)
    except (ValueError, LocationParseError):
        return _unreadable("its host or port cannot be read")
    if not _AUTHORITY.fullmatch(authority):
        return _unreadable(
            "its authority is not just a host and a port "
            "(user-info, percent-encoding or a zone id)"
        )
    host = parse_host(parsed.host or "")
    if host is None or parsed.port == 0:
        return _unreadable("its host or port is not valid")
    return Origin(scheme, host, parsed.port or DEFAULT_PORTS[scheme])


def join(base: str, link: str) -> str:
    """`link` resolved against `base`, or `link` as it is when it would need repairing.

    urljoin parses with urlsplit, which drops tabs and newlines: joining would turn a link that
    parsers read differently into one they agree on, a guess. Kept as it is, `Origin.of`
    refuses it.
    """
    return urljoin(base, link) if _readable(link) else link


def _readable(text: str) -> bool:
    # Printable excludes control characters and every space but " ", which is excluded too.
    return text.isprintable() and " " not in text and "\\" not in text


def _unreadable(why: str) -> Refusal:
    return Refusal(Refusal.Kind.HOST_INVALID, f"the URL's host cannot be trusted: {why}")


def scheme_of(url: str) -> str | None:
    """The URL's scheme in lower case, or None when it starts with none."""
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else None


def parse_host(raw: str) -> str | IPAddress | None:
    """A host as urllib3 wrote it (or an allow-list pattern's host): a name or an address."""
    if raw.startswith("[") and raw.endswith("]"):
        raw = raw[1:-1]
    if ":" in raw:  # only an IPv6 literal has colons in its host
        try:
            address = ipaddress.IPv6Address(raw)
        except ValueError:
            return None
        return None if address.scope_id else address
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
    if not name.isascii():
        # Encoded by urllib3 (IDNA 2008), as a URL's host is: Python's own codec (IDNA 2003)
        # would read `straße` as `strasse`, another host.
        if not _AUTHORITY.fullmatch(name):
            return None
        try:
            name = (parse_url(f"http://{name}").host or "").rstrip(".")
        except LocationParseError:
            return None
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return name
