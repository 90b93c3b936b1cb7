"""Threads that fetch listings' pages ahead of the page being read, shared by every listing.

A listing runs on one thread (the service's worker thread) and borrows more from here to
fetch the following pages of an offset listing at the same time. Borrowing never waits: when
no thread is free the listing fetches the page on its own thread, as sequential paging does.
So a busy process pages closer to sequentially instead of making anyone queue, the threads of
all listings together stay bounded, and no listing takes a worker thread from another request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["PageThreads"]

T = TypeVar("T")


class PageThreads:
    def __init__(self, size: int) -> None:
        self.size = size
        self._busy = 0
        self._count = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="spacegate-page")

    @property
    def busy(self) -> int:
        """Threads fetching a page right now."""
        return self._busy

    def try_submit(self, call: Callable[[], T]) -> Future[T] | None:
        """`call()` on a free thread, or None at once when every thread is busy."""
        with self._count:
            if self._busy >= self.size:
                return None
            self._busy += 1
        try:
            future = self._executor.submit(call)
        except RuntimeError:  # shut down
            self._done()
            return None
        # Run or cancelled, a future ends by its callbacks: the thread is free again.
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: object = None) -> None:
        with self._count:
            self._busy -= 1

    def close(self) -> None:
        """No more borrowing; threads still fetching finish their page (at shutdown)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
