"""Pure readings of a URL, remembered: a listing reads the same few URLs again and again.

A request's `instance_url` is read by the URL policy, the client's origin pin, each next link
check and the prepared request, each reading some 10 to 20 us of urllib3 and requests. The
readings are pure functions of the string and return immutable values, so `remembered`
keeps them, bounded twice: only URLs of ordinary length, and a fixed number of them (at most
a few MiB whatever the callers send).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

__all__ = ["remembered"]

T = TypeVar("T")

MAX_URL_LENGTH = 2048
MAX_URLS = 1024


def remembered(read: Callable[[str], T]) -> Callable[[str], T]:
    """`read`, remembering its result for each URL up to MAX_URL_LENGTH characters."""
    kept = functools.lru_cache(maxsize=MAX_URLS)(read)

    @functools.wraps(read)
    def reading(url: str) -> T:
        return kept(url) if len(url) <= MAX_URL_LENGTH else read(url)

    return reading
