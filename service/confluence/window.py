"""How many requests one listing may have in flight, and when the next one may go.

A listing fetches its pages through a `RequestWindow`: every attempt holds a slot while it
talks to Confluence. The window

- never has more slots in use than its size, at most the configured page concurrency;
- gives a free slot to the waiting page that comes first in Confluence's order, so the page
  the listing needs next is never queued behind pages fetched ahead of it;
- halves its size on a 429 or 503, down to 1, and grows back by one slot after as many
  successes as it has slots (additive increase, multiplicative decrease, as TCP does);
- after a 429 or 503 lets no request go before the wait that answer asked for has passed;
- counts the listing's waiting against the retry budget once per second of wall time, not
  once per page waiting: pages throttled together wait together.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["RequestWindow", "Ticket", "WindowClosed"]

# Longer waits for the lock are cut up (an arbitrary deadline overflows the lock's timeout).
_LONGEST_WAIT = 3600.0


class WindowClosed(Exception):
    """The listing is over (or this page was dropped from it): the request must not go."""


@dataclass(eq=False)
class Ticket:
    """One page fetch of a listing; `position` is the page's place in Confluence's order."""

    position: int
    cancelled: bool = False
    _order: int = field(default_factory=itertools.count().__next__, repr=False)


class RequestWindow:
    def __init__(self, most: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.most = max(1, most)
        self.size = self.most
        self.waited = 0.0  # seconds charged to the retry budget
        self._clock = clock
        self._in_use = 0
        self._successes = 0
        self._waiting: list[tuple[int, int, Ticket]] = []
        self._hold_until = -math.inf
        self._hold_by: Ticket | None = None
        self._closed = False
        self._lock = threading.Condition()

    @contextmanager
    def slot(self, ticket: Ticket, deadline: float) -> Iterator[bool]:
        """Hold a slot while one request is in flight; yields False when `deadline` (on the
        window's clock) passed first. Raises WindowClosed when the listing no longer wants
        this page."""
        acquired = self._acquire(ticket, deadline)
        try:
            yield acquired
        finally:
            if acquired:
                with self._lock:
                    self._in_use -= 1
                    self._lock.notify_all()

    def _acquire(self, ticket: Ticket, deadline: float) -> bool:
        entry = (ticket.position, ticket._order, ticket)
        with self._lock:
            heapq.heappush(self._waiting, entry)
            try:
                while True:
                    if self._closed or ticket.cancelled:
                        raise WindowClosed
                    now = self._clock()
                    if now >= deadline:
                        return False
                    held = now < self._hold_until and self._hold_by is not ticket
                    if self._waiting[0] is entry and self._in_use < self.size and not held:
                        self._in_use += 1
                        return True
                    timeout = min(deadline - now, _LONGEST_WAIT)
                    if held:
                        timeout = min(timeout, self._hold_until - now)
                    self._lock.wait(timeout)
            finally:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
                self._lock.notify_all()

    def succeeded(self) -> None:
        """A page came back: one step towards a larger window."""
        with self._lock:
            self._successes += 1
            if self._successes >= self.size and self.size < self.most:
                self.size += 1
                self._successes = 0
                self._lock.notify_all()

    def back_off(self, ticket: Ticket, wait: float, budget: float, *, throttled: bool) -> bool:
        """Charge a wait of `wait` seconds before `ticket`'s next attempt to the budget.

        False, charging nothing, when the budget cannot take it. `throttled` (Confluence said
        429 or 503) also halves the window and holds every other request of the listing until
        the wait is over; only what that hold adds to an earlier one is charged, so pages
        throttled together are charged once.
        """
        with self._lock:
            now = self._clock()
            until = now + wait
            charge = wait
            if throttled:
                charge = max(0.0, until - max(now, self._hold_until))
            if self.waited + charge > budget:
                return False
            self.waited += charge
            if throttled:
                self.size = max(1, self.size // 2)
                self._successes = 0
                if until > self._hold_until:
                    self._hold_until, self._hold_by = until, ticket
            return True

    def resumed(self, ticket: Ticket) -> None:
        """`ticket` has waited what it asked for: a hold it set is over (with a real clock it
        already is; with a test's sleep that returns at once, this keeps the charge honest)."""
        with self._lock:
            if self._hold_by is ticket:
                self._hold_until = min(self._hold_until, self._clock())
                self._hold_by = None
                self._lock.notify_all()

    def cancel(self, ticket: Ticket) -> None:
        """The listing dropped this page: it must not send another request."""
        with self._lock:
            ticket.cancelled = True
            self._lock.notify_all()

    def close(self) -> None:
        """The listing is over: every fetch still waiting gives up."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
