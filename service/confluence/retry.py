"""When to try a Confluence request again, and what to tell a client that must wait."""

from __future__ import annotations

import math
import random
import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = [
    "RETRYABLE_STATUSES",
    "backoff",
    "clamp_retry_after",
    "parse_retry_after",
]

# 429 and 503 are Confluence saying "later". 502 and 504 come from the gateways in front of
# it (Atlassian's edge, a Data Center reverse proxy) and are as transient as a 503. A 500 is a
# bug on Confluence's side that will not go away in the few seconds our budget allows.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

_DIGITS = re.compile(r"[0-9]+")
# Longer numbers are far past any wait we would honour; int() of thousands of digits even
# raises (Python's int-string limit), so they never reach int().
_MAX_DIGITS = 9
# What a client is told when Confluence gave no usable Retry-After: long enough for a throttle
# to cool down, short enough not to stall an interactive user.
_UNKNOWN_RETRY_AFTER = 30
_FIRST_BACKOFF = 0.5


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), or None.

    Huge values come back as `math.inf`; garbage, negative or empty values as None.
    `now` is the wall-clock time (seconds since the epoch) an HTTP-date is measured from.
    """
    if value is None:
        return None
    text = value.strip()
    if _DIGITS.fullmatch(text):
        return math.inf if len(text.lstrip("0")) > _MAX_DIGITS else float(int(text))
    try:
        moment = parsedate_to_datetime(text)
        if moment.tzinfo is None:  # "-0000": RFC 5322's "UTC, origin unknown"
            moment = moment.replace(tzinfo=UTC)
        at = moment.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    reference = time.time() if now is None else now
    return max(0.0, at - reference)


def clamp_retry_after(seconds: float | None) -> int:
    """The Retry-After we pass on to our client: whole seconds in 1…3600.

    docs/contract.md#error-table (429)
    """
    if seconds is None:
        return _UNKNOWN_RETRY_AFTER
    if math.isinf(seconds) or seconds > 3600:
        return 3600
    return max(1, math.ceil(seconds))


def backoff(attempt: int, cap: float) -> float:
    """The wait after failed attempt number `attempt` (1-based) when Confluence named none.

    Exponential from 0.5 s, capped, with "equal jitter" so that requests throttled together
    do not all come back at the same instant.
    """
    ceiling = min(cap, _FIRST_BACKOFF * 2.0 ** min(attempt - 1, 32))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - timing, not secrets
