"""The worker threads that run blocking Confluence calls: bounded, deadline-aware, observable.

A request waits for a thread no longer than its deadline (which counts from its arrival), and
a request whose client has gone stops using its thread: waiting, it gives up its place at
once; running, the work sees `gone` set at its next check (the Confluence client looks
between pages, attempts and retry waits). `/healthz` reports `saturation()`.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from starlette.types import Receive

from service.errors import ClientGone

__all__ = ["QueueTimeout", "WorkerPool", "sleep_unless_gone"]

T = TypeVar("T")


class QueueTimeout(Exception):
    """The request's deadline passed before a worker thread was free."""


class WorkerPool:
    def __init__(self, size: int) -> None:
        self.size = size
        # Created on first use: anyio's primitives need a running event loop.
        self._limiter: anyio.CapacityLimiter | None = None
        self._unlimited: anyio.CapacityLimiter | None = None

    def saturation(self) -> dict[str, int]:
        """Threads busy, requests waiting for one, and the pool's size."""
        if self._limiter is None:
            return {"size": self.size, "busy": 0, "queued": 0}
        stats = self._limiter.statistics()
        return {"size": self.size, "busy": stats.borrowed_tokens, "queued": stats.tasks_waiting}

    async def run(
        self, work: Callable[[threading.Event], T], *, deadline: float, receive: Receive
    ) -> T:
        """`work(gone)` in a worker thread, once one is free before `deadline` (monotonic).

        `receive` is the request's ASGI channel, its body already read: the next message on
        it can only be `http.disconnect`. Raises QueueTimeout, or ClientGone when the client
        went away (whatever the work then returned or raised).
        """
        gone = threading.Event()
        outcome: list[T] = []
        failure: list[Exception] = []
        async with anyio.create_task_group() as group:
            # a request still waiting gives up its place
            group.start_soon(_watch, receive, gone, group.cancel_scope)
            try:
                outcome.append(await self._in_thread(functools.partial(work, gone), deadline))
            except Exception as exc:  # re-raised below, once the watcher is stopped
                failure.append(exc)
            group.cancel_scope.cancel()
        if gone.is_set():
            raise ClientGone("the client closed the connection before the answer was ready")
        if failure:
            raise failure[0]
        return outcome[0]

    async def _in_thread(self, call: Callable[[], T], deadline: float) -> T:
        if self._limiter is None or self._unlimited is None:
            self._limiter = anyio.CapacityLimiter(self.size)
            # The pool's own limiter decides who runs; anyio's default one (40 threads) must not.
            self._unlimited = anyio.CapacityLimiter(math.inf)
        acquired = False
        with anyio.move_on_after(deadline - time.monotonic()):
            await self._limiter.acquire()
            acquired = True
        if not acquired:
            raise QueueTimeout
        try:
            return await anyio.to_thread.run_sync(call, limiter=self._unlimited)
        finally:
            self._limiter.release()


async def sleep_unless_gone(seconds: float, receive: Receive) -> None:
    """Wait `seconds` on the event loop; ClientGone as soon as the client closes the connection.

    `receive` is the request's ASGI channel, its body already read (see `WorkerPool.run`).
    """
    gone = threading.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(_watch, receive, gone, group.cancel_scope)
        await anyio.sleep(seconds)
        group.cancel_scope.cancel()
    if gone.is_set():
        raise ClientGone("the client closed the connection before the answer was ready")


async def _watch(receive: Receive, gone: threading.Event, scope: anyio.CancelScope) -> None:
    """Set `gone` and cancel `scope` when the client disconnects."""
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()
    scope.cancel()
