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
`mocks/state.py`) is done when the journal is read: the reader rings every worker's doorbell
(a named pipe in the state folder, where a thread of the worker sleeps until it rings) and
waits until each has written what it held. So whichever worker answers `GET /mock/requests`,
a request whose answer has arrived is in it; and no thread wakes while nobody reads, which
matters: a thread that wakes now and then slows the event loop's thread measurably.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
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
# How long a reader waits for the workers to write what they hold, and how often it looks.
_SETTLE_SECONDS = 2.0
_SETTLE_STEP_SECONDS = 0.005


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
    """One worker process's side of the journal: its captures, written when someone reads.

    From its first capture on, the process holds entries: it listens at a doorbell of its
    own, a named pipe in the state folder, in a thread that sleeps until a reader rings
    (nothing wakes it otherwise, so it costs nothing while nobody reads). Where named pipes
    do not exist (Windows), each capture is written at once instead.
    """

    def __init__(self, state: MockState) -> None:
        self.state = state
        self._pending: collections.deque[Capture] = collections.deque(maxlen=JOURNAL_LENGTH)
        self._writing = threading.Lock()
        self._name: str | None = None  # as a holder of entries, once it holds some
        self._at_once = not hasattr(os, "mkfifo")

    def record(self, capture: Capture) -> None:
        self._pending.append(capture)
        if self._at_once:
            self.write()
        elif self._name is None:
            self._hold()

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

    def _hold(self) -> None:
        # In the process that captured (a worker, after the fork), never before.
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        doorbell = _doorbell(self.state, name)
        os.mkfifo(doorbell, 0o600)
        # Read and write: opening does not wait for a writer, and a writer gone leaves no EOF.
        listening = os.open(doorbell, os.O_RDWR)
        self._name = name
        self.state.add_holder(name, os.getpid())
        threading.Thread(
            target=_listen,
            args=(weakref.ref(self), name, listening, doorbell),
            name="spacegate-journal",
            daemon=True,
        ).start()
        weakref.finalize(self, _ring_off, listening)

    def _settle(self) -> None:
        """Every holder has written what it held when this was called."""
        self.write()
        generation = self.state.ask_to_write()
        if self._name is not None:
            self.state.written(self._name, generation)
        for name in self.state.holders(behind=generation):
            if name != self._name and not _ring(_doorbell(self.state, name), generation):
                self.state.remove_holder(name)  # its process is gone
        deadline = time.monotonic() + _SETTLE_SECONDS
        while [n for n in self.state.holders(behind=generation) if n != self._name]:
            if time.monotonic() > deadline:
                _log.warning("the request journal was read before every worker had written")
                return
            time.sleep(_SETTLE_STEP_SECONDS)


def _doorbell(state: MockState, name: str) -> Path:
    return state.path.with_name(f"journal-{name}.doorbell")


def _ring(doorbell: Path, generation: int) -> bool:
    """Ask the holder listening at `doorbell` to write; False if nobody listens there."""
    try:
        ringing = os.open(doorbell, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no such pipe, or no process has it open (ENXIO): the holder is gone
        return False
    try:
        os.write(ringing, f"{generation}\n".encode())
    except BlockingIOError:
        pass  # the pipe is full of rings the holder has yet to answer: it will
    finally:
        os.close(ringing)
    return True


def _ring_off(listening: int) -> None:
    # The journal is gone: its thread wakes, finds no journal, and ends.
    with contextlib.suppress(OSError):
        os.write(listening, b"0\n")


def _listen(journal_ref: weakref.ref[Journal], name: str, listening: int, doorbell: Path) -> None:
    """A holder's thread: asleep until a reader rings, then write and say so."""
    try:
        while True:
            rings = os.read(listening, 4096).split()
            journal = journal_ref()
            if journal is None:
                return
            try:
                journal.write()
                journal.state.written(name, max(int(ring) for ring in rings))
            except (sqlite3.Error, ValueError) as exc:
                _log.warning("the request journal could not be written: %s", exc)
            del journal
    finally:
        os.close(listening)
        with contextlib.suppress(OSError):
            doorbell.unlink()


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
