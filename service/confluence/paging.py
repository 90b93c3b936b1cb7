"""Where the next page of a listing is, and whether we may go there with the credentials."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from requests.utils import parse_header_links

from service.confluence.errors import BadGateway
from service.confluence.origin import Origin, join
from service.confluence.spaces import NOT_THE_LISTING

__all__ = ["v1_next", "v2_next"]


def v1_next(body: Mapping[str, object], origin: Origin, default_base: str) -> str | None:
    """v1 and Data Center: `_links.next`, relative to `_links.base` (or the site's root)."""
    links = _links(body)
    base = _base(links, origin) or default_base
    following = _link(links, "next")
    if following is None:
        return None
    return origin.check(_join(base, following), "Confluence links the next page to")


def v2_next(
    body: Mapping[str, object], headers: Mapping[str, str], origin: Origin, default_base: str
) -> str | None:
    """v2: `_links.next` (or the Link header's rel=next), which starts with `/wiki`."""
    links = _links(body)
    base = _base(links, origin) or default_base
    following = _link(links, "next") or _link_header_next(headers)
    if following is None:
        return None
    if following.startswith("/") and not following.startswith("//"):
        # Already carries the context path: joining it to `base` would double `/wiki`.
        following = str(origin) + following
    return origin.check(_join(base, following), "Confluence links the next page to")


def _links(body: Mapping[str, object]) -> Mapping[str, object]:
    links = body.get("_links", {})
    if links is None:
        return {}
    if not isinstance(links, Mapping):
        raise BadGateway(f"{NOT_THE_LISTING} (its _links is not an object)")
    return links


def _link(links: Mapping[str, object], name: str) -> str | None:
    value = links.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        # A `next` we cannot read would silently truncate the listing.
        raise BadGateway(f"{NOT_THE_LISTING} (its _links.{name} is not a URL)")
    return value


def _base(links: Mapping[str, object], origin: Origin) -> str | None:
    base = _link(links, "base")
    # A listing whose base names another host is refused even if no link uses it
    # (docs/design.md#paging).
    return None if base is None else origin.check(base, "Confluence gives its base URL as")


def _link_header_next(headers: Mapping[str, str]) -> str | None:
    header = headers.get("Link")
    if not header:
        return None
    for link in parse_header_links(header):
        if "next" in link.get("rel", "").split():
            return link.get("url") or None
    return None


def _join(base: str, link: str) -> str:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return join(base, link)  # absolute, or scheme-relative "//host/…"
    # Relative to base, with or without the leading slash: base's path is a prefix to keep,
    # which urljoin would drop for "/rest/api/…".
    return base.rstrip("/") + "/" + link.lstrip("/")
