"""Where the next page of a listing is, and whether we may go there with the credentials."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from requests.utils import parse_header_links

from service.confluence.errors import BadGateway
from service.confluence.origin import Origin, join
from service.confluence.spaces import NOT_THE_LISTING

__all__ = ["OffsetLink", "v1_next", "v2_next"]

_START = re.compile(r"start=([0-9]{1,18})")


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


@dataclass(frozen=True)
class OffsetLink:
    """A v1 or Data Center `next` URL whose page is chosen by its one `start` parameter.

    Data Center's `next` links have been seen to under-count `start` (listing spaces twice)
    and to over-count it (skipping some), so the client keeps the link as Confluence wrote it
    but asks for the offset it derives from what the pages served: `at(offset)` is the same
    URL with only that number changed. Built from a URL the origin pin has passed, with nothing
    but digits changed, so the result connects where the link did.
    """

    before: str  # up to and including "start="
    start: int  # the offset the link itself names
    after: str

    @classmethod
    def of(cls, url: str) -> OffsetLink | None:
        """The link's `start`, or None when it has no single decimal `start` (then the link
        is followed as written)."""
        path, mark, rest = url.partition("?")
        query, hash_mark, fragment = rest.partition("#")
        if not mark:
            return None
        items = query.split("&")
        starts = [i for i, item in enumerate(items) if item.partition("=")[0] == "start"]
        if len(starts) != 1 or not _START.fullmatch(items[starts[0]]):
            return None
        index = starts[0]
        before = "&".join([*items[:index], ""]) if index else ""
        after = "".join("&" + item for item in items[index + 1 :])
        return cls(
            before=f"{path}?{before}start=",
            start=int(items[index].partition("=")[2]),
            after=after + hash_mark + fragment,
        )

    def at(self, offset: int) -> str:
        return f"{self.before}{offset}{self.after}"
