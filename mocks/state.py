"""The mock's state, shared by every worker process of one server: one SQLite file.

    state = MockState(folder)          # folder: SPACEGATE_MOCK_STATE_DIR, or one of its own
    state.advance("flaky")             # 1, 2, 3…: how many times the sequence has played
    state.rewind()                     # every sequence back to its start
    state.add_to_journal(rows)         # (arrival time, request id, entry JSON) each
    state.journal(request_id=None)     # the entries, oldest first, as JSON texts

`serve --workers N` runs N processes, each with its own memory; what the mock remembers
between requests (the journal, where each sequence is) must be the same whichever worker
answers, so it lives in `mock-state.sqlite3` in a folder the workers share (`serve` makes one
for each server and tells its workers through `SPACEGATE_MOCK_STATE_DIR`). SQLite's
write-ahead log lets readers and one writer work at once; a sequence moves on with one atomic
`INSERT … ON CONFLICT … RETURNING`, so two workers never play the same step twice. Nothing
here needs to survive a crash, so commits are not flushed to disk (`synchronous = OFF`).

Workers write their journal entries only when someone reads the journal (`mocks.journal`):
`ask_to_write()` raises a generation number, each holder of entries (`add_holder`) writes
what it holds and says so (`written`), and the reader waits until no holder is behind.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["JOURNAL_LENGTH", "STATE_FILE", "MockState"]

STATE_FILE = "mock-state.sqlite3"
# The journal keeps the most recent entries, by arrival.
JOURNAL_LENGTH = 500
# A worker waits this long for another's write to finish (writes take microseconds).
_BUSY_SECONDS = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY,
    arrived REAL NOT NULL,
    request_id TEXT,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_by_arrival ON journal (arrived, id);
CREATE TABLE IF NOT EXISTS sequence_positions (
    name TEXT PRIMARY KEY,
    played INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS read_generation (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    generation INTEGER NOT NULL
);
INSERT OR IGNORE INTO read_generation (only, generation) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS holders (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    written INTEGER NOT NULL
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

    def _run(self, sql: str, parameters: tuple[object, ...] = ()) -> list[Any]:
        with self._lock:
            return self._connect().execute(sql, parameters).fetchall()

    # -- sequences --------------------------------------------------------------------------

    def advance(self, sequence: str) -> int:
        """One more play of `sequence`: 1 the first time, then 2, 3… (until `rewind`)."""
        [(played,)] = self._run(
            "INSERT INTO sequence_positions (name, played) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET played = played + 1 RETURNING played",
            (sequence,),
        )
        return int(played)

    def rewind(self) -> dict[str, int]:
        """Every sequence back to its first step; how many times each had played."""
        rows = self._run("DELETE FROM sequence_positions RETURNING name, played")
        return {str(name): int(played) for name, played in rows}

    # -- the journal ------------------------------------------------------------------------

    def add_to_journal(self, rows: Iterable[tuple[float, str | None, str]]) -> None:
        """(arrival time, request id, entry as JSON with secrets masked) each, in one write."""
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "INSERT INTO journal (arrived, request_id, entry) VALUES (?, ?, ?)", rows
                )
                connection.execute(
                    "DELETE FROM journal WHERE id IN (SELECT id FROM journal "
                    "ORDER BY arrived DESC, id DESC LIMIT -1 OFFSET ?)",
                    (JOURNAL_LENGTH,),
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def journal(self, request_id: str | None = None) -> list[str]:
        """The most recent JOURNAL_LENGTH entries, oldest first; only `request_id`'s if given."""
        if request_id is None:
            rows = self._run("SELECT entry FROM journal ORDER BY arrived, id")
        else:
            rows = self._run(
                "SELECT entry FROM journal WHERE request_id = ? ORDER BY arrived, id",
                (request_id,),
            )
        return [str(entry) for (entry,) in rows]

    def empty_journal(self) -> int:
        """Remove every entry; how many there were."""
        with self._lock:
            return self._connect().execute("DELETE FROM journal").rowcount

    # -- writing the journal when it is read ------------------------------------------------

    def add_holder(self, name: str, pid: int) -> None:
        """`name` (in process `pid`) holds journal entries: readers wait for it to write them."""
        self._run(
            "INSERT OR REPLACE INTO holders (name, pid, written) "
            "SELECT ?, ?, generation FROM read_generation",
            (name, pid),
        )

    def remove_holder(self, name: str) -> None:
        self._run("DELETE FROM holders WHERE name = ?", (name,))

    def ask_to_write(self) -> int:
        """A new generation: every holder is to write what it holds, then say so."""
        [(generation,)] = self._run(
            "UPDATE read_generation SET generation = generation + 1 RETURNING generation"
        )
        return int(generation)

    def written(self, name: str, generation: int) -> None:
        """`name` has written everything it held when `generation` was asked for."""
        self._run("UPDATE holders SET written = max(written, ?) WHERE name = ?", (generation, name))

    def holders(self, behind: int) -> list[str]:
        """The names of the holders that have not yet written what `behind` asked for."""
        rows = self._run("SELECT name FROM holders WHERE written < ?", (behind,))
        return [str(n) for (n,) in rows]
