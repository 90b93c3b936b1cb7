"""The Confluence client: API choice, paging, retries, timeouts and error mapping.

It talks through one `requests` adapter it is handed (live: `GuardedHTTPAdapter`; mock: the
cassette adapter), pinned to each listing's origin, and sends from exactly one place,
`_exchange`, where every requests/urllib3 exception becomes one of `service.confluence.errors`.
Offset listings (v1, Data Center) fetch pages ahead on borrowed threads when given
`PageThreads`, through a per-listing `RequestWindow`; without, they page one at a time.
docs/design.md#talking-to-confluence is the specification this follows.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
import urllib3.response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from service import __version__
from service.confluence import retry
from service.confluence.errors import (
    BadGateway,
    ConfluenceError,
    CredentialsRejected,
    ListingAbandoned,
    RateLimited,
    RootNotFound,
    UpstreamTimeout,
)
from service.confluence.origin import Origin, Refusal, join
from service.confluence.page_threads import PageThreads
from service.confluence.paging import OffsetLink, v1_next, v2_next
from service.confluence.readahead import ReadAhead
from service.confluence.spaces import Space, page_spaces, read_page
from service.confluence.url_memo import remembered
from service.confluence.window import RequestWindow, Ticket

if TYPE_CHECKING:
    from service.settings import Settings

__all__ = ["ClientOptions", "ConfluenceClient", "Credentials", "PinnableAdapter", "Space"]

_log = logging.getLogger("spacegate.confluence")

_PAGE_LIMIT = 250  # v2's maximum; v1 and Data Center lower it to their own caps silently
_MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Confluence saying "later": these shrink a listing's window and hold its other requests.
_THROTTLED = frozenset({429, 503})
# A wait that leaves less than this before the deadline would only turn a clear 429/502 into
# a 504 a moment later.
_MIN_TIME_AFTER_WAIT = 0.25
_CLOUD_SUFFIX = "/wiki/rest/api"
_API_SUFFIX = "/rest/api"
_ROOT_EXAMPLES = (
    "https://acme.atlassian.net/wiki/rest/api (Cloud) or "
    "https://confluence.example.com/rest/api (Data Center)"
)


_USER_AGENT = f"spacegate/{__version__}"


class PinnableAdapter(Protocol):
    """The one seam below the client: the `requests` adapter it is handed.

    - `pinned(origin)`: the adapter one listing sends through (called once per listing); it
      refuses any request that would not connect to `origin`.
    - `blocking`: whether sending blocks on I/O. An adapter answering from memory says False,
      so that a caller on an event loop may run the client there instead of in a thread.
    - `clock()`: the time the client reads its deadline on (monotonic seconds). For an
      adapter that blocks it is real time; one answering from memory may stand for a slow
      server by running its clock ahead instead of sleeping, and a caller on an event loop
      waits out the difference without blocking it (mock mode's latency).
    - `close()`: releases pooled connections, once, at shutdown.

    Live: `GuardedHTTPAdapter`; mock mode: `mocks.adapter.CassetteAdapter`. Example::

        adapter = GuardedHTTPAdapter(policy)
        spaces = ConfluenceClient(adapter, options).list_spaces(root, web_url, credentials)
        adapter.close()
    """

    @property
    def blocking(self) -> bool: ...

    def clock(self) -> float: ...

    def pinned(self, origin: Origin) -> BaseAdapter: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Credentials:
    username: str
    api_token: str = field(repr=False)


@dataclass(frozen=True)
class ClientOptions:
    deadline_seconds: float
    connect_timeout_seconds: float
    read_timeout_seconds: float
    max_pages: int
    max_page_bytes: int
    retry_attempts: int
    retry_max_wait_seconds: float
    retry_budget_seconds: float
    max_spaces: int = 500_000
    page_concurrency: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientOptions:
        return cls(
            deadline_seconds=settings.deadline_seconds,
            connect_timeout_seconds=settings.connect_timeout_seconds,
            read_timeout_seconds=settings.read_timeout_seconds,
            max_pages=settings.max_pages,
            max_page_bytes=settings.max_page_bytes,
            retry_attempts=settings.retry_attempts,
            retry_max_wait_seconds=settings.retry_max_wait_seconds,
            retry_budget_seconds=settings.retry_budget_seconds,
            max_spaces=settings.max_spaces,
            page_concurrency=settings.page_concurrency,
        )


def _basic_authorization(credentials: Credentials) -> str:
    # RFC 7617's UTF-8, where requests would try latin-1 and fail on other characters.
    pair = f"{credentials.username}:{credentials.api_token}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass
class _Listing:
    """The state of one listing; nothing in ConfluenceClient itself changes.

    Pages fetched ahead share it from other threads: they only read it, but for `window`,
    which locks.
    """

    headers: Mapping[str, str] = field(repr=False)  # Authorization included
    origin: Origin
    adapter: BaseAdapter  # pinned to `origin`
    web_url: str
    deadline: float
    abandoned: Callable[[], bool]
    window: RequestWindow
    spaces: int = 0  # read so far


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes  # read for 200 only: error bodies are never shown, so never read


class _ApiMissing(Exception):
    """The first page of an API answered 404 or 410: try the other API, or report the root."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Transient(Exception):
    """A refused or reset connection: worth another attempt, else a BadGateway."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfluenceClient:
    """Lists the spaces a Confluence user can see, through one adapter pinned per listing.

    Safe to share between threads: each call keeps its state in its own `_Listing`.
    `page_threads`, when given, lets offset listings fetch up to `options.page_concurrency`
    pages at once (docs/design.md#paging); leave it out where sending does not block (an
    adapter answering from memory), so paging stays on the caller's thread.
    `clock` (monotonic seconds; the adapter's by default) and `sleep` are injectable for tests.
    """

    def __init__(
        self,
        adapter: PinnableAdapter,
        options: ClientOptions,
        *,
        page_threads: PageThreads | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._adapter = adapter
        self._options = options
        self._page_threads = page_threads if options.page_concurrency > 1 else None
        self._clock = clock if clock is not None else adapter.clock
        self._sleep = sleep

    def list_spaces(
        self, instance_url: str, web_url_instance: str, credentials: Credentials
    ) -> list[Space]:
        """Every space, every page followed, in Confluence's order (see `pages`, which the
        handler reads page by page, with its request's clock and cancellation)."""
        pages = self.pages(instance_url, web_url_instance, credentials)
        return [space for page in pages for space in page]

    def pages(
        self,
        instance_url: str,
        web_url_instance: str,
        credentials: Credentials,
        *,
        since: float | None = None,
        abandoned: Callable[[], bool] = lambda: False,
    ) -> Iterator[list[Space]]:
        """The spaces of every page, page by page in Confluence's order, as they are read.

        A failure can come after pages were yielded: a caller answers with all of them or
        none. The deadline counts from `since` (the clock's time the request arrived; now if
        None). `abandoned` is asked before every request to Confluence, so a caller that gave
        up frees the thread within one exchange.

        Raises only `ConfluenceError` subclasses (see errors.py), ListingAbandoned, or
        ValueError when `instance_url` cannot be read (`UrlPolicy.refusal` refuses those first).
        """
        # Read before anything reshapes it: urlsplit, under _api_root, would repair some URLs.
        origin = Origin.of(instance_url.strip())
        if isinstance(origin, Refusal):
            raise ValueError(f"instance_url cannot be called: {origin.sentence}")
        root = _api_root(instance_url)
        started = self._clock() if since is None else since
        listing = self._start(root, origin, web_url_instance, credentials, started, abandoned)
        v2_missing = False
        if root.endswith(_CLOUD_SUFFIX):
            site = root.removesuffix(_API_SUFFIX)
            try:
                yield from self._walk_cursors(
                    listing, f"{site}/api/v2/spaces?limit={_PAGE_LIMIT}", site
                )
                return
            except _ApiMissing:
                v2_missing = True  # not a Cloud site after all, or v2 switched off: try v1
        try:
            yield from self._walk_offsets(
                listing, f"{root}/space?limit={_PAGE_LIMIT}", root.removesuffix(_API_SUFFIX)
            )
        except _ApiMissing as missing:
            if missing.status == 404:
                raise RootNotFound(
                    f"Confluence answered 404 Not Found at {root}: that is not the REST API root "
                    f"of a Confluence site. It ends in /rest/api, like {_ROOT_EXAMPLES}."
                ) from None
            gone = "both its space listing APIs are" if v2_missing else "its space listing API is"
            raise BadGateway(
                f"Confluence at {origin} says {gone} gone (HTTP {missing.status})"
            ) from None

    def _start(
        self,
        root: str,
        origin: Origin,
        web_url: str,
        credentials: Credentials,
        started: float,
        abandoned: Callable[[], bool],
    ) -> _Listing:
        # No requests.Session: the client follows redirects itself, sends no cookies and needs
        # no hooks, so it prepares each request and hands it to the adapter, the one seam.
        concurrency = self._options.page_concurrency if self._page_threads else 1
        return _Listing(
            headers={
                "Accept": "application/json",
                "User-Agent": _USER_AGENT,
                "Accept-Encoding": "gzip, deflate",
                "Authorization": _basic_authorization(credentials),
            },
            origin=origin,
            adapter=self._adapter.pinned(origin),
            web_url=web_url.strip().rstrip("/"),
            deadline=started + self._options.deadline_seconds,
            abandoned=abandoned,
            window=RequestWindow(concurrency, clock=self._clock),
        )

    def _walk_cursors(
        self, listing: _Listing, first_url: str, default_base: str
    ) -> Iterator[list[Space]]:
        """v2: each cursor is known only once the page before it is read, so one at a time."""
        seen: set[str] = set()
        url = first_url
        while True:
            seen.add(url)
            answer = self._page(listing, url, first=len(seen) == 1, ticket=Ticket(len(seen)))
            body = read_page(answer.body, url)
            spaces = self._read(listing, body, url, len(seen))
            following = v2_next(body, answer.headers, listing.origin, default_base)
            yield spaces
            if following is None:
                return
            if following in seen:
                raise self._cycle(listing, len(seen))
            self._check_pages(listing, len(seen))
            url = following

    def _walk_offsets(
        self, listing: _Listing, first_url: str, default_base: str
    ) -> Iterator[list[Space]]:
        """v1 and Data Center: every page's address is its offset, so pages can be fetched
        ahead. The offset asked for next is always the last page's plus what it served
        (a `next` link's `start` has been seen to under- and over-count), so the pages and
        the answer are those of sequential paging whatever the window."""
        ahead: ReadAhead[_Answer] = ReadAhead(
            lambda url, ticket: self._page(listing, url, first=False, ticket=ticket),
            listing.window,
            self._page_threads,
            time_left=lambda: listing.deadline - self._clock(),
        )
        url, page_size = first_url, 0
        offset: int | None = 0  # None after a `next` followed as written
        ahead_urls: Iterator[str]
        seen = {url}
        try:
            answer = self._page(listing, url, first=True, ticket=Ticket(0))
            while True:
                body = read_page(answer.body, url)
                spaces = self._read(listing, body, url, len(seen))
                following = v1_next(body, listing.origin, default_base)
                yield spaces
                # An empty page ends the listing, `next` or not: nothing served, nothing more.
                if following is None or not spaces:
                    return
                self._check_pages(listing, len(seen))
                link = OffsetLink.of(following)
                if link is None:  # no offset to derive: follow `next` as written
                    url, offset, ahead_urls = following, None, iter(())
                elif offset is not None and link.start <= offset:
                    raise self._cycle(listing, len(seen))
                else:
                    offset = link.start if offset is None else offset + len(spaces)
                    page_size = max(page_size, len(spaces))
                    url = link.at(offset)  # only digits changed: it connects where `next` did
                    ahead_urls = self._offset_urls(link, offset, page_size, len(seen))
                if url in seen:
                    raise self._cycle(listing, len(seen))
                seen.add(url)
                try:
                    answer = ahead.take(len(seen) - 1, url, ahead_urls)
                except TimeoutError:
                    raise self._timeout(listing, "the overall deadline") from None
        finally:
            ahead.close()

    def _offset_urls(
        self, link: OffsetLink, offset: int, page_size: int, fetched: int
    ) -> Iterator[str]:
        """The pages expected after the one at `offset`, no further than the page cap."""
        for step in range(1, self._options.max_pages - fetched):
            yield link.at(offset + step * page_size)

    def _read(
        self, listing: _Listing, body: Mapping[str, object], url: str, pages: int
    ) -> list[Space]:
        spaces = page_spaces(body, listing.web_url, url)
        listing.spaces += len(spaces)
        if listing.spaces > self._options.max_spaces:
            raise BadGateway(
                f"Confluence's listing at {listing.origin} goes on past "
                f"{self._options.max_spaces} spaces ({pages} pages in), the cap set by "
                "SPACEGATE_MAX_SPACES"
            )
        return spaces

    def _check_pages(self, listing: _Listing, fetched: int) -> None:
        if fetched >= self._options.max_pages:
            raise BadGateway(
                f"Confluence's listing at {listing.origin} goes on past "
                f"{self._options.max_pages} pages, the cap set by SPACEGATE_MAX_PAGES"
            )

    def _cycle(self, listing: _Listing, fetched: int) -> BadGateway:
        return BadGateway(
            f"Confluence's listing at {listing.origin} links back to a page it already "
            f"sent ({fetched} pages in): a paging cycle"
        )

    def _page(self, listing: _Listing, url: str, *, first: bool, ticket: Ticket) -> _Answer:
        """One page: redirects followed, retries done, statuses mapped; a 200 or an error.

        Every attempt holds a slot of the listing's window while it talks to Confluence.
        """
        window = listing.window
        attempt = 1
        redirects = 0
        while True:
            with window.slot(ticket, listing.deadline) as acquired:
                if not acquired:
                    raise self._timeout(listing, "the overall deadline")
                try:
                    answer: _Answer | _Transient = self._exchange(listing, url)
                except _Transient as failure:
                    answer = failure
            if isinstance(answer, _Transient):
                wait = self._retry_wait(listing, ticket, attempt, None, throttled=False)
                if wait is None:
                    raise BadGateway(answer.detail) from None
                self._pause(listing, ticket, wait, answer.detail, attempt)
                attempt += 1
                continue
            status = answer.status
            if status == 200:
                window.succeeded()
                return answer
            if status in _REDIRECTS:
                redirects += 1
                url = self._redirect_target(listing, url, answer, redirects)
                continue
            if status in (401, 403):
                raise CredentialsRejected(
                    f"Confluence at {listing.origin} refused the username and API token "
                    f"(HTTP {status}); check both, and that basic authentication is enabled"
                )
            if first and status in (404, 410):
                raise _ApiMissing(status)
            if status in retry.RETRYABLE_STATUSES:
                retry_after = retry.parse_retry_after(answer.headers.get("Retry-After"))
                wait = self._retry_wait(
                    listing, ticket, attempt, retry_after, throttled=status in _THROTTLED
                )
                if wait is None:
                    raise self._gave_up(listing, status, retry_after, attempt)
                reason = f"Confluence answered HTTP {status} at {url}"
                self._pause(listing, ticket, wait, reason, attempt)
                attempt += 1
                continue
            raise BadGateway(f"Confluence answered HTTP {status} at {url}")

    def _exchange(self, listing: _Listing, url: str) -> _Answer:
        """The one place that sends; foreign exceptions end here."""
        if listing.abandoned():
            raise ListingAbandoned
        options = self._options
        started = self._clock()
        remaining = listing.deadline - started
        if remaining <= 0:
            raise self._timeout(listing, "the overall deadline")
        timeout = (
            min(options.connect_timeout_seconds, remaining),
            min(options.read_timeout_seconds, remaining),
        )
        try:
            request = requests.PreparedRequest()
            request.prepare_method("GET")
            request.url = _prepared_url(url)
            request.headers = CaseInsensitiveDict(listing.headers)
            # Proxies and CA bundle from the environment are the adapter's business.
            response = listing.adapter.send(request, stream=True, timeout=timeout)
            try:
                body = self._read_body(listing, response) if response.status_code == 200 else b""
            finally:
                response.close()
        except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
            kind = "connecting" if isinstance(exc, requests.ConnectTimeout) else "reading"
            raise self._timeout(listing, f"a {kind} timeout") from exc
        except (requests.exceptions.SSLError, urllib3.exceptions.SSLError) as exc:
            raise BadGateway(
                f"the TLS handshake with {listing.origin} failed (certificate or protocol)"
            ) from exc
        except (requests.ConnectionError, urllib3.exceptions.ProtocolError) as exc:
            raise _connection_failure(exc, listing.origin) from exc
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise BadGateway(
                f"the exchange with Confluence at {listing.origin} failed ({type(exc).__name__})"
            ) from exc
        _log.debug(
            "GET %s -> %d in %.1f ms", url, response.status_code, (self._clock() - started) * 1e3
        )
        return _Answer(response.status_code, response.headers, body)

    def _read_body(self, listing: _Listing, response: requests.Response) -> bytes:
        limit = self._options.max_page_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_big(listing)
        raw = response.raw
        if not isinstance(raw, urllib3.response.BaseHTTPResponse):
            # an adapter whose raw body is something else, like a plain file object
            return self._read_chunks(listing, response.iter_content(_CHUNK))
        # urllib3's read(n) waits for n bytes; read1 returns after one receive, so a server
        # dripping bytes cannot keep us past the deadline between two checks.
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = listing.deadline - self._clock()
            if remaining <= 0:
                raise self._timeout(listing, "the overall deadline, while reading the page")
            if sock is not None:
                # A stalled receive must not outlive the deadline either.
                sock.settimeout(min(self._options.read_timeout_seconds, remaining))
            chunk = raw.read1(_CHUNK, decode_content=True)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise self._too_big(listing)
            chunks.append(chunk)

    def _read_chunks(self, listing: _Listing, chunks_in: Any) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in chunks_in:
            if listing.deadline - self._clock() <= 0:
                raise self._timeout(listing, "the overall deadline, while reading the page")
            size += len(chunk)
            if size > self._options.max_page_bytes:
                raise self._too_big(listing)
            chunks.append(chunk)
        return b"".join(chunks)

    def _redirect_target(self, listing: _Listing, url: str, answer: _Answer, redirects: int) -> str:
        location = answer.headers.get("Location")
        if not location:
            raise BadGateway(f"Confluence answered HTTP {answer.status} without a Location")
        target = listing.origin.check(join(url, location), "Confluence redirects to")
        if redirects > _MAX_REDIRECTS:
            raise BadGateway(
                f"Confluence at {listing.origin} redirected more than {_MAX_REDIRECTS} times"
            )
        return target

    def _retry_wait(
        self,
        listing: _Listing,
        ticket: Ticket,
        attempt: int,
        retry_after: float | None,
        *,
        throttled: bool,
    ) -> float | None:
        """How long to wait before another attempt, or None to answer now."""
        options = self._options
        if attempt >= options.retry_attempts:
            return None
        if retry_after is not None:
            # Confluence's own figure, or nothing: retrying sooner only earns another 429.
            if retry_after > options.retry_max_wait_seconds:
                return None
            wait = retry_after
        else:
            wait = retry.backoff(attempt, options.retry_max_wait_seconds)
        if listing.deadline - self._clock() - wait < _MIN_TIME_AFTER_WAIT:
            return None
        if not listing.window.back_off(
            ticket, wait, options.retry_budget_seconds, throttled=throttled
        ):
            return None
        return wait

    def _pause(
        self, listing: _Listing, ticket: Ticket, wait: float, reason: str, attempt: int
    ) -> None:
        _log.warning(
            "%s; attempt %d of %d in %.2f s",
            reason,
            attempt + 1,
            self._options.retry_attempts,
            wait,
        )
        self._sleep(wait)
        listing.window.resumed(ticket)

    def _gave_up(
        self, listing: _Listing, status: int, retry_after: float | None, attempts: int
    ) -> ConfluenceError:
        tried = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        if status == 429:
            return RateLimited(
                f"Confluence at {listing.origin} is rate-limiting these requests "
                f"(HTTP 429 after {tried}); try again later",
                retry_after=retry.clamp_retry_after(retry_after),
            )
        return BadGateway(
            f"Confluence at {listing.origin} is unavailable (HTTP {status} after {tried})"
        )

    def _timeout(self, listing: _Listing, what: str) -> UpstreamTimeout:
        return UpstreamTimeout(
            f"Confluence at {listing.origin} did not answer in time ({what}; "
            f"{self._options.deadline_seconds:g} s allowed in all)"
        )

    def _too_big(self, listing: _Listing) -> BadGateway:
        return BadGateway(
            f"Confluence at {listing.origin} sent a page larger than "
            f"{self._options.max_page_bytes} bytes, the cap set by SPACEGATE_MAX_PAGE_BYTES"
        )


@remembered
def _prepared_url(url: str) -> str:
    """`url` as requests prepares it to send (quoting, IDNA), remembered."""
    request = requests.PreparedRequest()
    request.prepare_url(url, None)
    return request.url or url


def _api_root(instance_url: str) -> str:
    # The policy has judged scheme and host; a query or fragment means nothing on an API root.
    parts = urlsplit(instance_url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _connection_failure(exc: Exception, origin: Origin) -> ConfluenceError | _Transient:
    if isinstance(exc, requests.exceptions.ProxyError):
        return _Transient(f"the proxy could not reach Confluence at {origin}")
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return BadGateway(f"the name {origin.host} does not resolve (DNS)")
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return _Transient(f"could not connect to Confluence at {origin} (connection refused)")
    return _Transient(f"the connection to Confluence at {origin} was reset or closed")
