"""JSON log lines with the request id, and secrets kept out of them.

Nothing in spacegate logs a body or an Authorization header in the first place; as a second
line of defence, the secrets of the request being served (its api_token, its bearer token)
and the configured JWT secret are registered here and replaced by `***` in every formatted
line, traceback included.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import sys
import time
from collections.abc import Iterable
from types import TracebackType

from service import json_text

__all__ = [
    "JsonFormatter",
    "configure_logging",
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


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for spacegate, Connexion and uvicorn alike."""
    handler = logging.StreamHandler(sys.stderr)
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
