"""JSON log lines with the request id, and secrets kept out of them.

Nothing in spacegate logs a body or an Authorization header in the first place; as a second
line of defence, the secrets of the request being served (its api_token, its bearer token)
and the configured JWT secret are registered here and replaced by `***` in every formatted
line, traceback included.

Lines logged on the event loop are written in batches (`BatchingStreamHandler`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import sys
import time
from collections.abc import Iterable
from types import TracebackType
from typing import TextIO

from service import json_text

__all__ = [
    "BatchingStreamHandler",
    "JsonFormatter",
    "configure_logging",
    "flush_logs",
    "remember_secrets",
    "request_id_var",
    "utc_time",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "spacegate_request_id", default=None
)
_request_secrets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "spacegate_request_secrets", default=()
)
_process_secrets: set[str] = set()

# Short values ("a", "1") would mangle every line they happen to appear in.
# A record's exc_info once set (typeshed names it only privately).
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

_MIN_SECRET_LENGTH = 4
_MAX_SECRETS = 16
# uvicorn adds color_message, a copy of the message with terminal escapes
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}


def remember_secrets(*values: object, process_wide: bool = False) -> None:
    """Register values that must never appear in a log line: for this request, or always.

    A request's secrets live in its task's context and vanish with it, so nothing resets them.
    """
    kept = tuple(v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH)
    if process_wide:
        _process_secrets.update(kept)
    elif kept:
        known = _request_secrets.get()
        # A request registers two or three; the bound keeps a context that serves many
        # requests (a test harness, a background task) from growing without end.
        _request_secrets.set((*known, *(v for v in kept if v not in known))[-_MAX_SECRETS:])


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


@functools.lru_cache(maxsize=1024)
def _json_plain(secret: str) -> bool:
    return json_text.dumps(secret)[1:-1] == secret


def _shown(value: object) -> str:
    # json's `default` for extra fields: str(), unless that raises too.
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _scrubbed(value: object, secrets: Iterable[str]) -> object:
    if value is None or isinstance(value, int | float | bool):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=_shown)
    return _scrub(text, secrets)


@functools.lru_cache(maxsize=4)
def _second(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def utc_time(epoch: float) -> str:
    """`epoch` (time.time()) as ISO 8601 in UTC with milliseconds: 2026-12-02T10:00:00.123Z."""
    return f"{_second(int(epoch))}.{int((epoch - int(epoch)) * 1000):03d}Z"


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a bad %-format or a __str__ that raises: keep the line, and JSON
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        return f"{template} (could not be formatted with its arguments)"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extra fields.

    A line is JSON whatever it holds: a caller's lone surrogate is written as its escape, and
    a message or exception that cannot be rendered is named instead of breaking the line
    (logging would otherwise print its own plain-text traceback).
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self._exception(record.exc_info)
        line = json_text.dumps_compact(entry, default=_shown)
        secrets = (*_request_secrets.get(), *_process_secrets)
        # A secret that JSON writes as itself can be looked for in the line, at C speed;
        # one holding quotes, backslashes or control characters is escaped there, so the
        # values are scrubbed before encoding.
        if any(secret in line or not _json_plain(secret) for secret in secrets):
            entry = {key: _scrubbed(value, secrets) for key, value in entry.items()}
            line = json_text.dumps_compact(entry, default=_shown)
        return line

    def _exception(self, exc_info: ExcInfo) -> str:
        try:
            return self.formatException(exc_info)
        except Exception:  # traceback rendering calls str() on the exception, which may raise
            return f"{exc_info[1].__class__.__name__} (its traceback could not be rendered)"


class BatchingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler whose lines logged on an event loop are written together, a moment later.

    Every write to the stream releases the GIL, and under load one of granian's threads is
    always waiting to take it: a write per access line cost about 45 us of CPU per request
    served (`python -m bench.mock_throughput`), where the write itself costs a few. Each line
    is still formatted at once, in its request's context (its request id, its secrets), and
    written with the lines before it, in order:

    - at most `FLUSH_SECONDS` after the first of them, by a timer on the running event loop;
    - at once when it is a WARNING or worse, when the batch reaches `MAX_BATCH_BYTES`, or when
      no event loop is running to write it later (a command, a thread of its own);
    - at shutdown: `flush_logs`, from the app's lifespan, and `logging.shutdown` at exit.
    """

    FLUSH_SECONDS = 0.1
    MAX_BATCH_BYTES = 64 * 1024

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._batch: list[str] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._batch.append(line)
        self._size += len(line)
        if record.levelno < logging.WARNING and self._size < self.MAX_BATCH_BYTES and self._later():
            return
        self._write(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._timer is not None:
                self._timer.cancel()  # when called before its time (shutdown, setStream)
                self._timer = self._timer_loop = None
            self._write(None)

    def _later(self) -> bool:
        """Whether a timer will write the batch: the one set, or one set now on this thread's
        running loop."""
        if self._timer_loop is not None and self._timer_loop.is_running():
            return True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._timer = loop.call_later(self.FLUSH_SECONDS, self.flush)
        self._timer_loop = loop
        return True

    def _write(self, record: logging.LogRecord | None) -> None:
        if not self._batch:
            return
        text = "".join(self._batch)
        self._batch.clear()
        self._size = 0
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            if record is not None:
                self.handleError(record)


def flush_logs() -> None:
    """Write what the root logger's handlers hold (see BatchingStreamHandler)."""
    for handler in logging.getLogger().handlers:
        handler.flush()


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for spacegate, Connexion and uvicorn alike."""
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "connexion"):
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
    # Our own access line carries the request id; uvicorn's would repeat it without.
    logging.getLogger("uvicorn.access").disabled = True
    # vcrpy logs every cassette interaction it loads, bodies included, at INFO.
    logging.getLogger("vcr").setLevel(logging.WARNING)
    # The JSON lines name no source line, thread or process: don't pay to look them up on
    # every record (the logging documentation's own advice for speed).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Connexion logs every validation problem at INFO, with the submitted values.
    logging.getLogger("connexion").setLevel(max(logging.WARNING, root.level))
