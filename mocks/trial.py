"""Trial plays: the mock trying a scenario on itself is not traffic, so none of it is logged.

    with trial():
        ...   # what spacegate's loggers say here, in this thread or task, is dropped

A context variable, not a switch on the loggers, so that requests served meanwhile on other
threads or tasks still log everything: a real Confluence failure, a real 500.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["trial"]

_in_trial: ContextVar[bool] = ContextVar("spacegate_mock_trial", default=False)
# The loggers a request's path writes to (a filter applies to its own logger's records only),
# and httpx's, which logs each request the prover sends.
_LOGGERS = (
    "spacegate.access",
    "spacegate.auth",
    "spacegate.confluence",
    "spacegate.errors",
    "httpx",
)


class _NotInTrials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _in_trial.get()


_FILTER = _NotInTrials()
for _name in _LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


@contextlib.contextmanager
def trial() -> Iterator[None]:
    token = _in_trial.set(True)
    try:
        yield
    finally:
        _in_trial.reset(token)
