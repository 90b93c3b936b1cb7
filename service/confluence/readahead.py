"""The pages of an offset listing fetched ahead of the page being read, handed back in order.

The listing asks for one page at a time (`take`), as sequential paging does, and says which
pages it expects to follow. While the window allows, those are fetched ahead on borrowed
threads (`PageThreads`). When the listing gets to a page, it takes what was fetched if it was
fetched at the URL it now wants, and drops everything fetched ahead otherwise (a short page,
a `next` that changed form): the answer is the one sequential paging gives, and what ran
ahead is at most one window of requests. The listing fetches no further ahead than it has
come (with two pages read, two in flight): a short listing costs no request past its end, and
the window opens as the listing proves long. With no thread to borrow, the listing fetches
the page itself.
"""

from __future__ import annotations

import functools
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from service.confluence.page_threads import PageThreads
from service.confluence.window import RequestWindow, Ticket

__all__ = ["ReadAhead"]

T = TypeVar("T")

# How long past the listing's deadline a fetch may take to report it (its own clocks end it).
_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class _Fetch(Generic[T]):
    url: str
    ticket: Ticket
    future: Future[T]


class ReadAhead(Generic[T]):
    """Fetches for one listing. `fetch(url, ticket)` gets one page (blocking, retries
    included); `time_left()` is how long the listing may still wait, in seconds."""

    def __init__(
        self,
        fetch: Callable[[str, Ticket], T],
        window: RequestWindow,
        threads: PageThreads | None,
        time_left: Callable[[], float],
    ) -> None:
        self._fetch = fetch
        self._window = window
        self._threads = threads
        self._time_left = time_left
        self._ahead: deque[_Fetch[T]] = deque()

    def take(self, position: int, url: str, following: Iterable[str]) -> T:
        """The page at `url`, the `position`-th of the listing (from 0); `following` are the
        URLs expected after it, in order, to fetch ahead while the window allows.

        Raises what the fetch raised, or TimeoutError when it outlives the deadline.
        """
        head = self._ahead.popleft() if self._ahead and self._ahead[0].url == url else None
        if head is None:
            self._drop(0)
        expected = iter(following)
        kept = 0
        for fetched in self._ahead:
            wanted = next(expected, None)
            if wanted != fetched.url:
                expected = itertools.chain([] if wanted is None else [wanted], expected)
                break
            kept += 1
        self._drop(kept)
        if head is None:
            head = self._launch(position, url)
            if head is None:
                return self._fetch(url, Ticket(position))
        self._fill(position, expected)
        return head.future.result(timeout=max(0.0, self._time_left()) + _GRACE_SECONDS)

    def _fill(self, taken: int, urls: Iterator[str]) -> None:
        # The page being taken counts: at most `size` pages are in flight for the reader, and
        # no more than it has read (`taken` pages, the first one included).
        limit = min(self._window.size, taken)
        position = taken + 1 + len(self._ahead)
        while 1 + len(self._ahead) < limit:
            url = next(urls, None)
            if url is None:
                return
            fetch = self._launch(position, url)
            if fetch is None:
                return
            self._ahead.append(fetch)
            position += 1

    def _launch(self, position: int, url: str) -> _Fetch[T] | None:
        if self._threads is None:
            return None
        ticket = Ticket(position)
        future = self._threads.try_submit(functools.partial(self._fetch, url, ticket))
        return None if future is None else _Fetch(url, ticket, future)

    def _drop(self, first: int) -> None:
        """Forget what was fetched ahead from `first` on; fetches still running send nothing
        more (a request already on the wire finishes, unread)."""
        while len(self._ahead) > first:
            self._window.cancel(self._ahead.pop().ticket)

    def close(self) -> None:
        """The listing is over, whatever its outcome: nothing fetched ahead goes on."""
        self._drop(0)
        self._window.close()
