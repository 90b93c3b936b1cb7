"""What can go wrong talking to Confluence, in the client's own terms.

    ConfluenceError                  detail: a sentence safe to show a client
     ├─ CredentialsRejected          Confluence answered 401/403 to the username and token
     ├─ RootNotFound                 Confluence answered 404 at instance_url (wrong API root)
     ├─ AddressRefused               instance_url's host resolves to an address policy refuses
     ├─ RateLimited                  Confluence kept answering 429; retry_after in seconds (1…3600)
     ├─ BadGateway                   refused, DNS, TLS, 5xx, not its API, other host, cycle, cap
     └─ UpstreamTimeout              connect, read or the overall deadline ran out

requests/urllib3 exceptions never leave the client: it maps them to these at its one call
site. No message carries credentials or Confluence's bodies verbatim.

`ListingAbandoned` is not Confluence's failure: the caller said it no longer wants the listing.
"""

from __future__ import annotations

__all__ = [
    "AddressRefused",
    "BadGateway",
    "ConfluenceError",
    "CredentialsRejected",
    "ListingAbandoned",
    "RateLimited",
    "RootNotFound",
    "UpstreamTimeout",
]


class ConfluenceError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CredentialsRejected(ConfluenceError):
    pass


class RootNotFound(ConfluenceError):
    pass


class AddressRefused(ConfluenceError):
    pass


class RateLimited(ConfluenceError):
    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class BadGateway(ConfluenceError):
    pass


class UpstreamTimeout(ConfluenceError):
    pass


class ListingAbandoned(Exception):
    """The caller's `abandoned()` turned true: the listing stopped before its next request."""
