"""The mock's state, shared by every worker process of one server: one SQLite file.

    state = MockState(folder)            # folder: SPACEGATE_MOCK_STATE_DIR, or one of its own
    state.add_to_journal(request_id, entry_json)
    state.journal(request_id=None)       # the entries, oldest first, as JSON texts
    state.advance("flaky")               # 1, 2, 3…: how many times the sequence has played
    state.rewind()                       # every sequence back to its start

`serve --workers N` runs N processes, each with its own memory; what the mock remembers
between requests (the journal, where each sequence is) must be the same whichever worker
answers, so it lives in `mock-state.sqlite3` in a folder the workers share (`serve` makes one
for each server and tells its workers through `SPACEGATE_MOCK_STATE_DIR`). SQLite's
write-ahead log lets readers and one writer work at once; a sequence moves on with one atomic
`INSERT … ON CONFLICT … RETURNING`, so two workers never play the same step twice. Nothing
here needs to survive a crash, so commits are not flushed to disk (`synchronous = OFF`): a
journal entry costs one insert of a few microseconds.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from pathlib import Path

__all__ = ["JOURNAL_LENGTH", "STATE_FILE", "MockState"]

STATE_FILE = "mock-state.sqlite3"
# The journal keeps the most recent entries; older ones are trimmed every _TRIM_EVERY inserts.
JOURNAL_LENGTH = 500
_TRIM_EVERY = 64
# A worker waits this long for another's write to finish (writes take microseconds).
_BUSY_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY,
    request_id TEXT,
    entry TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sequence_positions (
    name TEXT PRIMARY KEY,
    played INTEGER NOT NULL
);
"""


class MockState:
    """See the module's docstring. Safe to share between threads; each process connects anew."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is None:
            # Without a shared folder this process keeps one of its own, removed with this
            # object or at exit.
            folder = Path(tempfile.mkdtemp(prefix="spacegate-mock-"))
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        else:
            folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / STATE_FILE
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def _connect(self) -> sqlite3.Connection:
        # A connection must not cross a fork: a worker forked from the process that built
        # this object opens its own.
        if self._connection is None or self._pid != os.getpid():
            connection = sqlite3.connect(
                self.path, timeout=_BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = OFF")
            connection.executescript(_SCHEMA)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def add_to_journal(self, request_id: str | None, entry: str) -> None:
        """Append one entry (a JSON text, secrets already masked)."""
        with self._lock:
            connection = self._connect()
            cursor = connection.execute(
                "INSERT INTO journal (request_id, entry) VALUES (?, ?)", (request_id, entry)
            )
            last = cursor.lastrowid or 0
            if last % _TRIM_EVERY == 0:
                connection.execute("DELETE FROM journal WHERE id <= ?", (last - JOURNAL_LENGTH,))

    def journal(self, request_id: str | None = None) -> list[str]:
        """The most recent JOURNAL_LENGTH entries, oldest first; only `request_id`'s if given."""
        query = (
            "SELECT entry FROM journal WHERE id > (SELECT coalesce(max(id), 0) FROM journal) - ?"
        )
        parameters: tuple[object, ...] = (JOURNAL_LENGTH,)
        if request_id is not None:
            query += " AND request_id = ?"
            parameters += (request_id,)
        with self._lock:
            rows = self._connect().execute(query + " ORDER BY id", parameters).fetchall()
        return [row[0] for row in rows]

    def empty_journal(self) -> int:
        """Remove every entry; how many there were."""
        with self._lock:
            return self._connect().execute("DELETE FROM journal").rowcount

    def advance(self, sequence: str) -> int:
        """One more play of `sequence`: 1 the first time, then 2, 3… (until `rewind`)."""
        with self._lock:
            row = (
                self._connect()
                .execute(
                    "INSERT INTO sequence_positions (name, played) VALUES (?, 1) "
                    "ON CONFLICT (name) DO UPDATE SET played = played + 1 RETURNING played",
                    (sequence,),
                )
                .fetchone()
            )
        return int(row[0])

    def rewind(self) -> dict[str, int]:
        """Every sequence back to its first step; how many times each had played."""
        with self._lock:
            rows = (
                self._connect()
                .execute("DELETE FROM sequence_positions RETURNING name, played")
                .fetchall()
            )
        return {name: played for name, played in rows}
