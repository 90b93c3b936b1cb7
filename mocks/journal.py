"""The request journal: the requests the mock answered, as `GET /mock/requests` shows them.

    {"time": "2026-12-02T10:00:00.123Z", "method": "POST",
     "path": "/v2/confluence/space-listing", "query": "", "status": 200,
     "duration_ms": 3.1, "request_id": "…", "scenario": "default", "latency_ms": 0,
     "headers": {"authorization": "Bearer ***", …}, "body": {"api_token": "***", …},
     "confluence": [{"method": "GET", "path": "/wiki/api/v2/spaces?limit=250", "status": 200}]}

`Recorder` is a middleware of mock mode, inside `ScenarioPicker` (so it sees the request's
`Playback`: the scenario played and Confluence's calls) and outside the app's own layers (so
it sees the answer as sent, `x-request-id` included). It records each request to anything but
the operational endpoints (`/mock/…`, `/healthz`, `/ui/`, the served documents), just before
the answer's last byte goes out.

Recording costs next to nothing, since most journals are never read: the recorder keeps
references to what it saw (`Capture`) in a bounded buffer of its worker process. The work
(masking secrets, `mocks/masking.py`; JSON; the write into the state the workers share,
`mocks/state.py`) is done when the journal is read: the reader asks every worker to write
what it holds (each worker's `Journal` looks for such a request every 50 ms, in a thread) and
waits for them. So whichever worker answers `GET /mock/requests`, a request whose answer has
arrived is in it.
"""

from __future__ import annotations

import collections
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mocks.masking import Masked
from mocks.playback import Playback, playback
from mocks.state import JOURNAL_LENGTH, MockState
from service.body_guard import MAX_BODY_BYTES
from service.logs import utc_time

__all__ = ["Capture", "Journal", "Recorder", "is_journaled"]

_log = logging.getLogger("spacegate.mock")

# The service's and the mock's own endpoints: what a client under test sends is the API.
_OPERATIONAL = ("/mock/", "/ui", "/openapi.", "/healthz")
# How often a worker looks whether a reader wants its entries, and how long a reader waits.
_POLL_SECONDS = 0.05
_SETTLE_SECONDS = 2.0


def is_journaled(path: str) -> bool:
    return path != "/" and not path.startswith(_OPERATIONAL)


class Capture(NamedTuple):
    """What the recorder saw of one request, as it saw it: turned into an entry when read."""

    arrived: float  # time.time()
    duration: float  # seconds, to the answer's last byte
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: list[bytes]
    status: int | None
    answer_headers: Iterable[tuple[bytes, bytes]]
    played: Playback | None

    def entry(self) -> tuple[float, str | None, str]:
        """(arrival, request id, the entry as JSON with every secret masked)."""
        request_id = next(
            (v.decode("latin-1") for n, v in self.answer_headers if n == b"x-request-id"), None
        )
        masked = Masked.of(
            self.path,
            self.query.decode("latin-1"),
            ((n.decode("latin-1"), v.decode("latin-1")) for n, v in self.headers),
            b"".join(self.body)[:MAX_BODY_BYTES],
        )
        played = self.played
        entry: dict[str, object] = {
            "time": utc_time(self.arrived),
            "method": self.method,
            "path": masked.path,
            "query": masked.query,
            "status": self.status,
            "duration_ms": round(self.duration * 1000, 1),
            "request_id": request_id,
            "scenario": None if played is None else played.scenario,
        }
        if played is not None and played.step is not None:
            entry["sequence"] = {"name": played.step[0], "step": played.step[1]}
        if played is not None and played.scenario is not None:
            entry["latency_ms"] = played.latency_ms
        entry["headers"] = masked.headers
        if masked.body_text is not None:
            entry["body_text"] = masked.body_text
        else:
            entry["body"] = masked.body
        entry["confluence"] = [] if played is None else [c.describe() for c in played.calls]
        return self.arrived, request_id, masked.json(entry)


class Journal:
    """One worker process's side of the journal: its captures, written when someone reads."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        self._pending: collections.deque[Capture] = collections.deque(maxlen=JOURNAL_LENGTH)
        self._writing = threading.Lock()
        self._watching = False

    def record(self, capture: Capture) -> None:
        self._pending.append(capture)
        if not self._watching:
            self._watch()

    def read(self, request_id: str | None = None) -> list[str]:
        """Every worker's entries (only `request_id`'s if given), oldest first. Blocks."""
        self._settle()
        return self.state.journal(request_id)

    def empty(self) -> int:
        """Remove every entry, written or held by any worker; how many there were. Blocks."""
        self._settle()
        return self.state.empty_journal()

    def write(self) -> None:
        """Write what this process holds into the shared state."""
        with self._writing:
            captures = []
            while self._pending:
                captures.append(self._pending.popleft())
            if captures:
                self.state.add_to_journal(capture.entry() for capture in captures)

    def _watch(self) -> None:
        # From the first capture on, in the process that made it (a worker, after the fork).
        self._watching = True
        registered = self.state.register_worker(os.getpid())
        threading.Thread(
            target=_follow,
            args=(weakref.ref(self), registered),
            name="spacegate-journal",
            daemon=True,
        ).start()

    def _settle(self) -> None:
        """Every worker has written what it held when this was called."""
        self.write()
        generation = self.state.ask_flush()
        me = os.getpid()
        self.state.flushed(me, generation)
        deadline = time.monotonic() + _SETTLE_SECONDS
        while time.monotonic() < deadline:
            behind = [pid for pid in self.state.workers_behind(generation) if pid != me]
            for pid in behind:
                if not _alive(pid):
                    self.state.forget_worker(pid)
            if not [pid for pid in behind if _alive(pid)]:
                return
            time.sleep(_POLL_SECONDS / 5)
        _log.warning("the request journal was read before every worker had written to it")


def _follow(journal_ref: weakref.ref[Journal], answered: int) -> None:
    """A worker's thread: write the captures whenever a reader asks; ends with its journal.

    `answered`: the generation the worker registered at."""
    pid = os.getpid()
    while (journal := journal_ref()) is not None:
        try:
            asked = journal.state.flush_asked()
            if asked > answered:
                journal.write()
                journal.state.flushed(pid, asked)
                answered = asked
        except sqlite3.Error as exc:
            _log.warning("the request journal could not be written: %s", exc)
        del journal
        time.sleep(_POLL_SECONDS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Recorder:
    """The middleware that captures each journaled request; see the module's docstring."""

    def __init__(self, app: ASGIApp, *, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_journaled(scope["path"]):
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        started = time.monotonic()
        body: list[bytes] = []
        status: int | None = None
        answer_headers: Iterable[tuple[bytes, bytes]] = ()
        recorded = False

        def record() -> None:
            nonlocal recorded
            recorded = True
            self.journal.record(
                Capture(
                    arrived,
                    time.monotonic() - started,
                    scope["method"],
                    scope["path"],
                    scope.get("query_string", b""),
                    scope["headers"],
                    body,
                    status,
                    answer_headers,
                    playback.get(None),
                )
            )

        async def reading() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status, answer_headers
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                answer_headers = message.get("headers", ())
            elif kind == "http.response.body" and not message.get("more_body") and not recorded:
                record()  # before the last byte: an answer in hand is in the journal
            await send(message)

        try:
            await self.app(scope, reading, sending)
        finally:
            if not recorded:  # no answer went out (the client left first)
                record()
